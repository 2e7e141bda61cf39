"""``workbench featviz``: feature visualization from the command line."""

from __future__ import annotations

import json

from workbench.errors import WorkbenchError


def add_parsers(sub, add_model_options) -> None:
    parser = sub.add_parser("featviz", help="optimize an image that excites a unit")
    parser.add_argument("--layer", help="layer name (needed for channel, neuron, deepdream)")
    unit = parser.add_mutually_exclusive_group(required=True)
    unit.add_argument("--channel", type=int, help="maximize the mean of one channel")
    unit.add_argument("--neuron", metavar="C,X,Y", help="one channel at one grid position")
    unit.add_argument("--class", dest="class_index", type=int, help="maximize a class logit")
    unit.add_argument("--deepdream", action="store_true", help="mean squared activation")
    parser.add_argument("--steps", type=int, default=256)
    parser.add_argument("--size", type=int, default=224, help="optimized image side (px)")
    parser.add_argument("--param", dest="parameterization", choices=("fft", "pixel"),
                        default="fft")
    parser.add_argument("--batch", type=int, default=1, help="images optimized together")
    parser.add_argument("--diversity", type=float, default=0.0,
                        help="weight of the diversity term across the batch")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", metavar="IMAGE", help="start from this image (DeepDream)")
    parser.add_argument("--out", metavar="OUT.png", help="the images side by side, with recipe")
    parser.add_argument("--json", action="store_true",
                        help="print the objective at the start and at the end")
    add_model_options(parser)


def build_objective(args, model):
    from workbench.core.featureviz import Channel, ClassLogit, Diversity, LayerDream, Neuron

    needs_layer = args.class_index is None
    layer = args.layer or (model.default_cam_layer if needs_layer else None)
    if needs_layer and not layer:
        raise WorkbenchError("--layer is needed for this objective")
    if layer:
        model.layer_module(layer)
    if args.class_index is not None:
        if not 0 <= args.class_index < model.num_classes:
            raise WorkbenchError(f"--class must be in 0 … {model.num_classes - 1}")
        objective = ClassLogit(args.class_index)
    elif args.deepdream:
        objective = LayerDream(layer)
    elif args.neuron:
        try:
            c, x, y = (int(v) for v in args.neuron.split(","))
        except ValueError:
            raise WorkbenchError(f"--neuron must be C,X,Y, not '{args.neuron}'") from None
        objective = Neuron(layer, c, x, y)
    else:
        objective = Channel(layer, args.channel)
    _check_channel(model, layer, objective)
    if args.diversity:
        objective = objective + args.diversity * Diversity(layer or model.default_cam_layer)
    return objective, layer


def _check_channel(model, layer, objective) -> None:
    channel = getattr(objective, "channel", None)
    if channel is None or layer is None:
        return
    from workbench.core.models.layout import unknown_layout_message

    info = model.layer_info(layer)
    if info.layout is None:
        raise WorkbenchError(unknown_layout_message(info))
    count = info.channels
    if not 0 <= channel < count:
        raise WorkbenchError(f"layer {layer} has channels 0 … {count - 1}, not {channel}")


def recipe(model, objective, args) -> dict:
    return {"model": model.name, "weights": model.source, "objective": objective.description,
            "steps": args.steps, "size": args.size, "parameterization": args.parameterization,
            "batch": args.batch, "lr": args.lr, "seed": args.seed}


def cmd_featviz(args) -> int:
    import numpy as np
    import torch

    from workbench.cli.common import load_cli_model, progress_context
    from workbench.core.featureviz import FeatureVizConfig, evaluate, run_to_end
    from workbench.core.featureviz.parameterization import make_image
    from workbench.io.export import save_png

    if args.steps < 1 or args.size < 8 or args.batch < 1:
        raise WorkbenchError("--steps must be ≥ 1, --size ≥ 8 and --batch ≥ 1")
    model = load_cli_model(args)
    objective, _layer = build_objective(args, model)
    init = _start_image(args, model) if args.start else None
    config = FeatureVizConfig(lr=args.lr, parameterization=args.parameterization)
    first = make_image(args.parameterization, args.batch, args.size, model.device, args.seed,
                       init).image().detach()
    start_value = evaluate(model, objective, first)
    with progress_context() as ctx:
        last = run_to_end(model, objective, config=config, steps=args.steps, batch=args.batch,
                          size=args.size, seed=args.seed, init=init, snapshot_every=args.steps,
                          ctx=ctx)
    end_value = evaluate(model, objective, torch.from_numpy(last.images).permute(0, 3, 1, 2))
    meta = recipe(model, objective, args)
    if args.out:
        save_png(args.out, np.concatenate(list(last.images), axis=1),
                 {"Recipe": json.dumps(meta), "Caption": f"{objective.description} · "
                  f"{model.caption()}"})
    summary = {**meta, "objective_start": start_value.tolist(),
               "objective_end": end_value.tolist(), "steps_per_second": last.steps_per_second}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{objective.description}: {start_value.mean():.3f} → {end_value.mean():.3f} "
              f"in {args.steps} steps ({last.steps_per_second:.1f} steps/s)")
    return 0


def _start_image(args, model):
    import torch

    from workbench.core.preprocess import to_pixels
    from workbench.io.images import load_image

    picture = to_pixels(load_image(args.start), (args.size, args.size), model.device)
    return picture.expand(args.batch, -1, -1, -1).contiguous().to(torch.float32)


COMMANDS = {"featviz": cmd_featviz}
