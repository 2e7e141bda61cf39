"""``workbench report``: chosen analyses of images and videos as one PDF and / or a
self-contained HTML page, headless (the same :func:`~workbench.core.report.build_report`
as *File → Report…*)."""

from __future__ import annotations

import json
from pathlib import Path

from workbench.cli import common
from workbench.errors import WorkbenchError

SUFFIXES = (".pdf", ".html", ".htm")


def add_parsers(sub, add_model_options) -> None:
    from workbench.cli.adversarial import parse_fraction

    report = sub.add_parser("report", help="a PDF / HTML report of chosen analyses of inputs")
    report.add_argument("inputs", nargs="+", metavar="IMAGE",
                        help="images or videos (a video: its frames at --frames, and its "
                             "timeline for the video section)")
    report.add_argument("--sections", default="predict,gradcam,occlusion",
                        help="comma list: predict, any attribution method (gradcam, saliency, "
                             "…), occlusion, paint-occlusion, adversarial, featviz, embedding, "
                             "video, model (default: predict,gradcam,occlusion)")
    report.add_argument("--out", action="append", required=True, metavar="REPORT.pdf|.html",
                        help="the document; give it twice for both formats")
    report.add_argument("--layer", help="attribution layer (default: the model's CAM layer)")
    report.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="an attribution method parameter, e.g. --param samples=16")
    report.add_argument("--topk", type=int, default=5)
    report.add_argument("--window", type=int, default=32, help="occlusion window (px)")
    report.add_argument("--stride", type=int, default=16, help="occlusion stride (px)")
    report.add_argument("--fill", default="0.5", help="occlusion fill (grey level or mode)")
    report.add_argument("--mask", metavar="MASK.png", help="paint-occlusion mask, white = hidden")
    report.add_argument("--attack", default="fgsm", help="adversarial method (default fgsm)")
    report.add_argument("--eps", type=parse_fraction, default=8 / 255,
                        help="adversarial budget in pixel units (default 8/255)")
    report.add_argument("--channel", type=int, default=0, help="featviz channel")
    report.add_argument("--featviz-layer", help="featviz layer (default: --layer)")
    report.add_argument("--featviz-steps", type=int, default=48)
    report.add_argument("--embed-dataset", default="auto",
                        help="auto, digits, samples, inputs or a folder (default auto)")
    report.add_argument("--embed-method", default="pca", help="pca, tsne, umap or autoencoder")
    report.add_argument("--frames", default="0", help="frames of a video input, e.g. 0,30,60")
    report.add_argument("--no-faithfulness", action="store_true",
                        help="skip the deletion / insertion AUCs of attribution maps")
    report.add_argument("--title", default="", help="the report's title")
    report.add_argument("--json", action="store_true",
                        help="print a summary: sections, pages, numbers")
    add_model_options(report)


def output_paths(args) -> list[Path]:
    paths = [Path(p) for p in args.out]
    for path in paths:
        if path.suffix.lower() not in SUFFIXES:
            raise WorkbenchError(f"--out {path}: a report is written as .pdf or .html")
        if path.exists() and not args.overwrite:
            raise WorkbenchError(f"'{path}' already exists; pass --overwrite to replace it")
    return paths


def parse_frames(text: str) -> tuple[int, ...]:
    try:
        frames = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise WorkbenchError(f"--frames must be frame numbers like 0,30,60, not '{text}'") \
            from None
    if not frames or min(frames) < 0:
        raise WorkbenchError(f"--frames must be frame numbers like 0,30,60, not '{text}'")
    return frames


def method_params(sections: list[str], pairs: list[str]) -> dict:
    """``--param`` pairs typed by the attribution methods among ``sections`` that declare
    them (one pair may serve several methods)."""
    from workbench.core.attribution import METHODS
    from workbench.core.params import describe

    infos = {}
    for name in sections:
        if name in METHODS and METHODS[name].params_cls is not None:
            infos.update({i.name: i for i in describe(METHODS[name].params_cls)})
    return common.typed_pairs(pairs, dict(sorted(infos.items())),
                              "the chosen methods' parameters are")


def report_options(args, sections):
    from workbench.core.report import ReportOptions

    if args.topk < 1 or args.featviz_steps < 1:
        raise WorkbenchError("--topk and --featviz-steps must be at least 1")
    if args.mask and not Path(args.mask).is_file():
        raise WorkbenchError(f"--mask {args.mask}: file not found")
    return ReportOptions(
        topk=args.topk, layer=args.layer, method_params=method_params(sections, args.param),
        faithfulness=not args.no_faithfulness, window=args.window, stride=args.stride,
        fill=args.fill, mask=args.mask, attack=args.attack, eps=args.eps,
        featviz_layer=args.featviz_layer, channel=args.channel,
        featviz_steps=args.featviz_steps, embed_dataset=args.embed_dataset,
        embed_method=args.embed_method, frames=parse_frames(args.frames))


def cmd_report(args) -> int:
    from workbench.core.report import build_report, open_inputs, parse_sections

    paths = output_paths(args)
    sections = parse_sections(args.sections)
    options = report_options(args, sections)
    if "paint-occlusion" in sections and not args.mask:
        raise WorkbenchError("the paint-occlusion section needs --mask MASK.png")
    inputs = open_inputs(args.inputs, options.frames)
    model = common.load_cli_model(args)
    if args.layer:
        model.layer_module(args.layer)  # an unknown layer is one line, before any work
    with common.progress_context() as ctx:
        report = build_report(model, inputs, sections, options, ctx, title=args.title)
    written = write_documents(report, paths)
    summary = {**report.summary(), "outputs": written}
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        for item in written:
            pages = f", {item['pages']} pages" if item.get("pages") else ""
            print(f"saved {item['path']} ({len(report.sections)} sections{pages})")
    return 0


def write_documents(report, paths) -> list[dict]:
    from workbench.io.report_html import write_html
    from workbench.io.report_pdf import write_pdf

    written = []
    for path in paths:
        if path.suffix.lower() == ".pdf":
            written.append({"path": str(path), "format": "pdf",
                            "pages": write_pdf(path, report)})
        else:
            write_html(path, report)
            written.append({"path": str(path), "format": "html"})
    return written


COMMANDS = {"report": cmd_report}
