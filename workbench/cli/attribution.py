"""``workbench cam``: attribution maps (CAMs, gradient maps, attention rollout)."""

from __future__ import annotations

import json

from workbench.cli import common
from workbench.cli.dense import add_target_options, resolve_target, target_text
from workbench.errors import WorkbenchError


def add_parsers(sub, add_model_options) -> None:
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
    add_target_options(cam)
    add_model_options(cam)


def cmd_cam(args) -> int:
    import numpy as np

    from workbench.core.attribution import attribute, faithfulness, get_method
    from workbench.core.preprocess import model_input, to_image
    from workbench.core.provenance import provenance
    from workbench.io.atomic import save_npy_atomic
    from workbench.io.colormaps import COLORMAPS
    from workbench.io.images import load_image

    method = get_method(args.method)
    overrides = common.parse_params(method, args.param)
    if args.colormap not in COLORMAPS:
        raise WorkbenchError(f"--colormap must be one of {', '.join(COLORMAPS)}")
    image = load_image(args.image)
    model = common.load_cli_model(args)
    x = model_input(model, image)
    targeted = resolve_target(args, model, x, image.shape[:2])
    model = targeted.model
    chosen = args.target if targeted.label is None else targeted.label
    targets = None if chosen is None else [chosen]
    with common.progress_context() as ctx:
        result = common.run_core(args, attribute, model, x, args.method, layer=args.layer,
                                 targets=targets, params=overrides, ctx=ctx)
    heat = result.numpy()[0].astype(np.float32)
    target = result.targets[0]
    summary = {"target": target, "label": model.label(target), "layer": result.layer,
               "method": method.name, "map_shape": list(heat.shape), "model": model.name}
    if targeted.dense:
        summary["dense_target"] = targeted.info
    if args.faithfulness:
        with common.progress_context() as ctx:
            score = faithfulness(model, x, result.maps[0], target, ctx=ctx)
        summary.update(score.as_dict())
    if args.save_map:
        save_npy_atomic(args.save_map, heat)
    if args.save_input:
        save_npy_atomic(args.save_input, x.detach().cpu().numpy().astype("float32"))
    summary.update(common.map_summary(heat, "attribution value"))
    if args.out:
        frame = heat if heat.ndim == 2 else heat[0]
        title = (f"{method.title} of '{model.label(target)}' (class {target}) at "
                 f"{result.layer or 'the input'}")
        record = provenance(model, method.title, result.layer, overrides, image=args.image)
        common.save_map_figure(args.out, to_image(x), frame, title, "attribution value",
                               record, args.colormap)
    common.warn(summary)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{method.title} for {model.label(target)} (class {target}) at "
              f"{result.layer or 'the input'}: map {tuple(heat.shape)}")
        if targeted.dense:
            print(f"target {target_text(targeted.info)}")
        if args.faithfulness:
            print(f"deletion AUC {summary['deletion_auc']:.3f}, "
                  f"insertion AUC {summary['insertion_auc']:.3f}")
    return 0


COMMANDS = {"cam": cmd_cam}
