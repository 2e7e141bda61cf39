"""``workbench occlusion`` (sliding-window sweep) and ``workbench occlude`` (a painted mask)."""

from __future__ import annotations

import json

from workbench.cli import common
from workbench.cli.dense import add_target_options, resolve_target, target_text


def add_parsers(sub, add_model_options) -> None:
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
    add_target_options(sweep)
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
    from workbench.core.provenance import provenance
    from workbench.io.atomic import save_npy_atomic
    from workbench.io.images import load_image

    fill = parse_fill(args.fill)
    params = OcclusionParams(window=args.window, stride=args.stride, batch_size=args.batch_size)
    validate(params)
    image = load_image(args.image)
    model = common.load_cli_model(args)
    x = model_input(model, image)
    targeted = resolve_target(args, model, x, image.shape[:2])
    model = targeted.model
    chosen = args.target if targeted.label is None else targeted.label
    with common.progress_context() as ctx:
        result = common.run_core(args, occlusion_map, model, x, fill, chosen, params, ctx=ctx)
    if args.save_grid:
        save_npy_atomic(args.save_grid, result.target_prob.astype(np.float32))
    if args.save_input:
        save_npy_atomic(args.save_input, x.detach().cpu().numpy().astype("float32"))
    label = model.label(result.target)
    if args.out:
        record = provenance(model, "occlusion sweep", None,
                            {"window": params.window, "stride": params.stride, "fill": fill},
                            image=args.image, target=label)
        common.save_map_figure(args.out, to_image(x), result.pixel_map(),
                               f"Occlusion: drop in p({label}) with each window hidden",
                               f"drop in p({label})", record)
    summary = {
        "target": result.target, "label": model.label(result.target),
        "base_prob": float(result.base_probs[result.target]),
        "grid_shape": list(result.target_prob.shape), "window": params.window,
        "stride": params.stride, "fill": fill, "min_prob": float(np.min(result.target_prob)),
        "max_drop": float(np.max(result.drop)),
        **common.map_summary(result.drop, f"drop in p({label})"),
    }
    if targeted.dense:
        summary["dense_target"] = targeted.info
    common.warn(summary)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{summary['label']}: p={summary['base_prob']:.3f}; largest drop "
              f"{summary['max_drop']:.3f} over a {summary['grid_shape']} grid of windows")
        if targeted.dense:
            print(f"target {target_text(targeted.info)}")
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
    model = common.load_cli_model(args)
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


COMMANDS = {"occlusion": cmd_occlusion, "occlude": cmd_occlude}
