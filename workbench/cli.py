"""The ``workbench`` command: the GUI, and headless subcommands over core + io.

Never imports Qt except for ``gui`` and ``screenshot`` (DESIGN.md §6).  User
errors print one line to stderr and exit with status 1 (2 for bad usage).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from workbench import __version__
from workbench.errors import WorkbenchError

SUBCOMMANDS = ("gui", "models", "predict", "cam", "occlusion", "occlude", "featviz",
               "attack", "patch", "embed", "neighbors", "screenshot")
# Subcommands that live in their own modules: each has add_parsers(sub, add_model_options)
# and COMMANDS.
EXTENSIONS = ("workbench.cli_featviz", "workbench.cli_adversarial", "workbench.cli_embedding")


def extension_modules():
    import importlib
    import importlib.util

    return [importlib.import_module(name) for name in EXTENSIONS
            if importlib.util.find_spec(name) is not None]


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is a single line."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--model", default="efficientnet_lite0",
                       help="built-in or torchvision name (NAME:random for random weights), "
                            "or a checkpoint file (default: efficientnet_lite0)")
    group.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps")
    group.add_argument("--download", action="store_true",
                       help="allow downloading torchvision weights that are not cached")
    group.add_argument("--trust", action="store_true",
                       help="allow unpickling a whole-model checkpoint (runs code from the file)")
    group.add_argument("--arch", help="torchvision architecture of a state-dict checkpoint")
    group.add_argument("--num-classes", type=int, help="classes of a state-dict checkpoint")
    group.add_argument("--labels", help="labels file for a checkpoint, one per line")
    group.add_argument("--input-size", type=int, default=224,
                       help="input size of a checkpoint model (default 224)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="workbench", description="Interpretability workbench for "
                           "PyTorch vision models. Without a subcommand, opens the GUI.")
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    gui = sub.add_parser("gui", help="open the main window")
    gui.add_argument("files", nargs="*", help="images or folders to open")
    gui.add_argument("--model", help="model to load (default: the last one, or efficientnet_lite0)")
    gui.add_argument("--tab", help="tab to show first")
    models = sub.add_parser("models", help="list models and whether each works offline now")
    models.add_argument("--json", action="store_true", help="machine-readable output")
    predict = sub.add_parser("predict", help="top-k classes for an image")
    predict.add_argument("image")
    predict.add_argument("--topk", type=int, default=5)
    predict.add_argument("--json", action="store_true",
                         help='print [{"index", "label", "prob"}, ...], best first')
    predict.add_argument("--save-input", metavar="FILE.npy",
                         help="save the exact (1, 3, H, W) pixel tensor the model saw")
    add_model_options(predict)
    add_cam_parser(sub)
    add_occlusion_parsers(sub)
    for module in extension_modules():
        module.add_parsers(sub, add_model_options)
    shot = sub.add_parser("screenshot", help="save the main window as PNG, offscreen")
    shot.add_argument("out", help="PNG file to write")
    shot.add_argument("files", nargs="*", help="images or folders to open")
    shot.add_argument("--tab", help="tab to show")
    shot.add_argument("--size", default="1400x860", help="window size WxH (default 1400x860)")
    shot.add_argument("--model", help="model to load (default efficientnet_lite0)")
    shot.add_argument("--dark", action="store_true", help="dark theme")
    for command in sub.choices.values():
        command.add_argument("--overwrite", action="store_true",
                             help="replace output files that already exist")
    return parser


def add_cam_parser(sub) -> None:
    cam = sub.add_parser("cam", help="attribution map (CAMs, gradient maps, attention rollout)")
    cam.add_argument("image")
    cam.add_argument("--method", required=True,
                     help="gradcam, gradcam++, xgradcam, layercam, hirescam, scorecam, eigencam, "
                          "saliency, smoothgrad, integrated-gradients, guided-backprop, "
                          "guided-gradcam, attention-rollout")
    cam.add_argument("--layer", help="layer name (default: the model's default CAM layer)")
    cam.add_argument("--target", type=int, help="class index (default: the top-1 prediction)")
    cam.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="a method parameter, e.g. --param samples=50 (repeatable)")
    cam.add_argument("--out", metavar="OVERLAY.png", help="save the map over the model input")
    cam.add_argument("--colormap", default="inferno")
    cam.add_argument("--save-map", metavar="MAP.npy",
                     help="save the raw float32 map at the model input resolution")
    cam.add_argument("--save-input", metavar="X.npy",
                     help="save the exact pixel tensor the model saw")
    cam.add_argument("--faithfulness", action="store_true",
                     help="also compute deletion / insertion AUC")
    cam.add_argument("--json", action="store_true", help="print a JSON summary")
    add_model_options(cam)


def parse_params(method, pairs: list[str]) -> dict:
    """``["samples=50", ...]`` → typed overrides for ``method``'s parameter dataclass."""
    from workbench.core.params import describe

    infos = {info.name: info for info in describe(method.params_cls)}
    values = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in infos:
            known = ", ".join(infos) or "none"
            raise WorkbenchError(f"--param {pair}: {method.name} parameters are: {known}")
        kind = infos[name].kind
        try:
            values[name] = (text.lower() in ("1", "true", "yes")) if kind is bool else kind(text)
        except ValueError:
            raise WorkbenchError(f"--param {pair}: {name} must be a {kind.__name__}") from None
    return values


def cmd_cam(args) -> int:
    import numpy as np

    from workbench.core.attribution import attribute, faithfulness, get_method
    from workbench.core.colormaps import COLORMAPS
    from workbench.core.preprocess import model_input, to_image
    from workbench.io.atomic import save_npy_atomic
    from workbench.io.export import save_png
    from workbench.io.images import load_image
    from workbench.io.overlay import overlay

    method = get_method(args.method)
    overrides = parse_params(method, args.param)
    if args.colormap not in COLORMAPS:
        raise WorkbenchError(f"--colormap must be one of {', '.join(COLORMAPS)}")
    image = load_image(args.image)
    model = load_cli_model(args)
    x = model_input(model, image)
    targets = None if args.target is None else [args.target]
    result = attribute(model, x, args.method, layer=args.layer, targets=targets,
                       params=overrides)
    heat = result.numpy()[0].astype(np.float32)
    target = result.targets[0]
    summary = {"target": target, "label": model.label(target), "layer": result.layer,
               "method": method.name, "map_shape": list(heat.shape), "model": model.name}
    if args.faithfulness:
        score = faithfulness(model, x, result.maps[0], target)
        summary.update(score.as_dict())
    if args.save_map:
        save_npy_atomic(args.save_map, heat)
    if args.save_input:
        save_npy_atomic(args.save_input, x.detach().cpu().numpy().astype("float32"))
    if args.out:
        frame = heat if heat.ndim == 2 else heat[0]
        caption = f"{method.title} of '{model.label(target)}' at {result.layer or 'input'}; " \
                  f"{model.caption()}"
        save_png(args.out, overlay(to_image(x), frame, args.colormap), {"Caption": caption})
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{method.title} for {model.label(target)} (class {target}) at "
              f"{result.layer or 'the input'}: map {tuple(heat.shape)}")
        if args.faithfulness:
            print(f"deletion AUC {summary['deletion_auc']:.3f}, "
                  f"insertion AUC {summary['insertion_auc']:.3f}")
    return 0


def add_occlusion_parsers(sub) -> None:
    sweep = sub.add_parser("occlusion", help="sliding-window occlusion sensitivity map")
    sweep.add_argument("image")
    sweep.add_argument("--window", type=int, default=32, help="window side in input pixels")
    sweep.add_argument("--stride", type=int, default=16, help="step in input pixels")
    sweep.add_argument("--fill", default="0.5",
                       help="grey level in [0, 1], or mean, grey, blur, noise, black, inpaint")
    sweep.add_argument("--target", type=int, help="class index (default: the top-1)")
    sweep.add_argument("--batch-size", type=int, default=0, help="0: sized to the device")
    sweep.add_argument("--out", metavar="OVERLAY.png", help="probability drop over the input")
    sweep.add_argument("--save-grid", metavar="GRID.npy",
                       help="(rows, cols) float32 target probability per window position")
    sweep.add_argument("--save-input", metavar="X.npy")
    sweep.add_argument("--json", action="store_true")
    add_model_options(sweep)
    paint = sub.add_parser("occlude", help="top-k before and after hiding a painted mask")
    paint.add_argument("image")
    paint.add_argument("--mask", required=True, help="PNG mask: white = hidden")
    paint.add_argument("--fill", default="0.5")
    paint.add_argument("--topk", type=int, default=5)
    paint.add_argument("--save-input", metavar="X.npy", help="save the masked input tensor")
    paint.add_argument("--json", action="store_true")
    add_model_options(paint)


def cmd_occlusion(args) -> int:
    import numpy as np

    from workbench.core.occlusion import OcclusionParams, occlusion_map, parse_fill
    from workbench.core.params import validate
    from workbench.core.preprocess import model_input, to_image
    from workbench.io.atomic import save_npy_atomic
    from workbench.io.export import save_png
    from workbench.io.images import load_image
    from workbench.io.overlay import overlay

    fill = parse_fill(args.fill)
    params = OcclusionParams(window=args.window, stride=args.stride, batch_size=args.batch_size)
    validate(params)
    image = load_image(args.image)
    model = load_cli_model(args)
    x = model_input(model, image)
    result = occlusion_map(model, x, fill, args.target, params)
    if args.save_grid:
        save_npy_atomic(args.save_grid, result.target_prob.astype(np.float32))
    if args.save_input:
        save_npy_atomic(args.save_input, x.detach().cpu().numpy().astype("float32"))
    if args.out:
        caption = (f"Occlusion of '{model.label(result.target)}', window {params.window}, "
                   f"stride {params.stride}, fill {fill}; {model.caption()}")
        save_png(args.out, overlay(to_image(x), result.pixel_map()), {"Caption": caption})
    summary = {
        "target": result.target, "label": model.label(result.target),
        "base_prob": float(result.base_probs[result.target]),
        "grid_shape": list(result.target_prob.shape), "window": params.window,
        "stride": params.stride, "fill": fill, "min_prob": float(np.min(result.target_prob)),
        "max_drop": float(np.max(result.drop)),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{summary['label']}: p={summary['base_prob']:.3f}; largest drop "
              f"{summary['max_drop']:.3f} over a {summary['grid_shape']} grid of windows")
    return 0


def cmd_occlude(args) -> int:
    from workbench.core.occlusion import parse_fill, predict_masked
    from workbench.core.preprocess import model_input
    from workbench.io.atomic import save_npy_atomic
    from workbench.io.images import load_image
    from workbench.io.masks import load_mask

    fill = parse_fill(args.fill)
    image = load_image(args.image)
    mask = load_mask(args.mask)
    model = load_cli_model(args)
    result = predict_masked(model, model_input(model, image), mask, fill, args.topk)
    if args.save_input:
        masked = result.masked_image.transpose(2, 0, 1)[None].astype("float32")
        save_npy_atomic(args.save_input, masked)
    base_order = result.base_probs.argsort()[::-1][: args.topk]
    before = [{"index": int(i), "label": model.label(int(i)), "prob": float(result.base_probs[i])}
              for i in base_order]
    after = result.rows(args.topk)
    if args.json:
        print(json.dumps({"before": before, "after": after}, indent=2))
    else:
        for row in after:
            print(f"{row['prob']:7.2%} ({row['delta']:+7.2%})  {row['label']}")
    return 0


def checkpoint_options(args):
    from workbench.core.models.checkpoint import CheckpointOptions

    return CheckpointOptions(arch=args.arch, num_classes=args.num_classes,
                             labels_file=args.labels, trust=args.trust,
                             input_size=args.input_size)


def load_cli_model(args):
    from workbench.core.models import load_model

    return load_model(args.model, device=args.device, download=args.download,
                      checkpoint=checkpoint_options(args))


def cmd_models(args) -> int:
    from workbench.core.models import available_models

    rows = available_models()
    if args.json:
        print(json.dumps([row.__dict__ for row in rows], indent=2))
        return 0
    width = max(len(r.name) for r in rows)
    for row in rows:
        offline = "offline" if row.offline else "needs download (NAME:random works offline)"
        print(f"{row.name:<{width}}  {row.kind:<5}  {offline}")
    return 0


def cmd_predict(args) -> int:
    from workbench.core.predict import predict_image
    from workbench.io.atomic import save_npy_atomic
    from workbench.io.images import load_image

    if args.topk < 1:
        raise WorkbenchError("--topk must be at least 1")
    image = load_image(args.image)
    model = load_cli_model(args)
    prediction, pixels = predict_image(model, image, args.topk)
    if args.save_input:
        save_npy_atomic(args.save_input, pixels.detach().cpu().numpy().astype("float32"))
    if args.json:
        print(json.dumps([score.as_dict() for score in prediction.top], indent=2))
    else:
        for score in prediction.top:
            print(f"{score.prob:7.2%}  {score.index:>5}  {score.label}")
    return 0


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise WorkbenchError(f"--size must look like 1400x860, not '{text}'") from None
    if not (200 <= width <= 8000 and 200 <= height <= 8000):
        raise WorkbenchError(f"--size {text} is outside 200x200 … 8000x8000")
    return width, height


def cmd_screenshot(args) -> int:
    from workbench.ui.screenshot import take_screenshot

    errors = take_screenshot(args.out, args.files, tab=args.tab, size=parse_size(args.size),
                             model=args.model, dark=args.dark)
    for text in errors:
        print(f"workbench: warning: {text}", file=sys.stderr)
    print(args.out)
    return 0


def cmd_gui(args) -> int:
    from workbench.ui.app import run_gui

    return run_gui(files=args.files, model=args.model, tab=args.tab)


COMMANDS = {"gui": cmd_gui, "models": cmd_models, "predict": cmd_predict, "cam": cmd_cam,
            "occlusion": cmd_occlusion, "occlude": cmd_occlude, "screenshot": cmd_screenshot}


def normalize_argv(argv: list[str]) -> list[str]:
    """``workbench`` and ``workbench FILE …`` mean ``workbench gui …``."""
    if not argv:
        return ["gui"]
    first = argv[0]
    if first in SUBCOMMANDS or first.startswith("-"):
        return argv
    return ["gui", *argv]


OUTPUT_OPTIONS = ("out", "save_map", "save_input", "save_grid", "save_adv", "save")


def check_outputs(args) -> None:
    """Refuse to replace an existing output file unless ``--overwrite`` was given."""
    for name in OUTPUT_OPTIONS:
        path = getattr(args, name, None)
        if isinstance(path, str) and path and os.path.exists(path) and not args.overwrite:
            raise WorkbenchError(f"'{path}' already exists; pass --overwrite to replace it")


def main(argv: list[str] | None = None) -> int:
    argv = normalize_argv(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    commands = dict(COMMANDS)
    for module in extension_modules():
        commands.update(module.COMMANDS)
    try:
        check_outputs(args)
        return commands[args.command](args)
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one line unless debugging
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        print(f"workbench: internal error: {type(exc).__name__}: {exc} "
              "(set WORKBENCH_DEBUG=1 for details)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
