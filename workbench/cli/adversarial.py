"""``workbench attack`` and ``workbench patch``: adversarial examples and patches, headless.

:func:`add_parsers` registers both subcommands on ``build_parser``'s
subparsers and :data:`COMMANDS` maps them to their functions, so
:mod:`workbench.cli` wires them in two lines.  Never imports Qt.
"""

from __future__ import annotations

import argparse
import json
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

from workbench.cli.common import progress_context
from workbench.cli.dense import (
    add_target_options,
    attack_goal,
    attack_scores,
    parse_attack_target,
    resolve_target,
    target_text,
)
from workbench.errors import ImageLoadError, WorkbenchError

LEAST_LIKELY = "least-likely"
METHOD_HELP = "fgsm, bim, pgd, pgd-l2, mifgsm, deepfool, cw"


def parse_fraction(text: str) -> float:
    """``"8/255"`` or ``"0.03"`` → float ≥ 0 (an argparse ``type``)."""
    try:
        value = float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a number or a fraction like 8/255") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is negative")
    return value


def parse_target(text: str):
    """A class index or ``least-likely`` (an argparse ``type``)."""
    if text.strip().lower() in (LEAST_LIKELY, "least_likely", "ll"):
        return LEAST_LIKELY
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is neither a class index nor "
                                         f"'{LEAST_LIKELY}'") from None


def parse_point(text: str) -> tuple[float, float]:
    """``"X,Y"`` → a pair of floats (an argparse ``type``)."""
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' must look like X,Y (e.g. 20,40)") from None
    return x, y


def add_parsers(sub, add_model_options) -> None:
    """Register ``attack`` and ``patch`` on a subparsers object."""
    attack = sub.add_parser("attack", help="adversarial example of an image, or paste a patch")
    attack.add_argument("image")
    attack.add_argument("--method", help=METHOD_HELP)
    attack.add_argument("--eps", type=parse_fraction,
                        help="budget in pixel units, e.g. 8/255 (L∞) or 1.0 (L2); "
                             "for deepfool and cw a cap on L2 (0: none)")
    attack.add_argument("--step-size", type=parse_fraction, help="step in pixel units, e.g. 1/255")
    attack.add_argument("--steps", type=int, help="number of steps")
    attack.add_argument("--target", type=parse_attack_target,
                        help="class index or label, or least-likely (default: untargeted); "
                             "for a detector also 'nothing': make the detection vanish")
    attack.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="another attack parameter, e.g. --param random_start=false")
    attack.add_argument("--patch", metavar="PATCH.png",
                        help="paste this patch instead of attacking (alpha = round mask)")
    attack.add_argument("--at", type=parse_point, metavar="X,Y",
                        help="patch's top-left corner in model-input pixels (default: centred)")
    attack.add_argument("--scale", type=float, default=1.0, help="patch scale (default 1)")
    attack.add_argument("--angle", type=float, default=0.0,
                        help="patch rotation in degrees, counter-clockwise")
    attack.add_argument("--out", metavar="ADV.png", help="save the adversarial image (8-bit)")
    attack.add_argument("--save-input", metavar="X.npy",
                        help="save the exact (1, 3, H, W) pixel tensor the model saw")
    attack.add_argument("--save-adv", metavar="ADV.npy",
                        help="save the float32 (1, 3, H, W) adversarial tensor")
    attack.add_argument("--json", action="store_true", help="print a JSON summary")
    add_target_options(attack)
    add_model_options(attack)
    patch = sub.add_parser("patch", help="train an adversarial patch for a target class")
    patch.add_argument("--target", type=int, required=True, help="class index to make appear")
    patch.add_argument("--images", required=True, nargs="+", metavar="FOLDER",
                       help="folder(s) or image files to train on")
    patch.add_argument("--size", type=int, default=50, help="side in model-input pixels")
    patch.add_argument("--shape", default="circle", help="circle or square")
    patch.add_argument("--steps", type=int, default=200, help="optimization steps")
    patch.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="another patch parameter, e.g. --param lr=0.02")
    patch.add_argument("--out", required=True, metavar="PATCH.png",
                       help="PNG to write (alpha channel = mask)")
    patch.add_argument("--json", action="store_true", help="print a JSON summary")
    add_model_options(patch)


def attack_overrides(method, args) -> dict:
    """``--param`` pairs plus ``--eps`` / ``--steps`` / ``--step-size`` for ``method``."""
    from workbench.cli.common import parse_params
    from workbench.core.params import describe

    overrides = parse_params(method, args.param)
    names = {info.name for info in describe(method.params_cls)}
    for flag, name in (("--eps", "eps"), ("--steps", "steps"), ("--step-size", "step_size")):
        value = getattr(args, name)
        if value is None:
            continue
        if name not in names:
            raise WorkbenchError(f"{flag}: {method.title} has no parameter {name} "
                                 f"(it has {', '.join(sorted(names))})")
        overrides[name] = value
    return overrides


def class_row(model, probs, index: int) -> dict:
    return {"index": int(index), "label": model.label(int(index)), "prob": float(probs[index])}


def image_model(args):
    from workbench.cli.common import load_cli_model

    model = load_cli_model(args)
    if model.kind != "image":
        raise WorkbenchError(f"'workbench {args.command}' needs an image model; "
                             f"{model.name} is a {model.kind} model")
    return model


def save_tensors(args, x, adv) -> None:
    from workbench.io.atomic import save_npy_atomic

    if args.save_input:
        save_npy_atomic(args.save_input, x.detach().cpu().numpy().astype("float32"))
    if args.save_adv:
        save_npy_atomic(args.save_adv, adv.detach().cpu().numpy().astype("float32"))


def eight_bit_check(model, args, adv, x, caption: str):
    """Pixels as an 8-bit file holds them (each level chosen toward the original, so the
    file keeps the budget): the saved PNG reloaded, or the same levels in memory."""
    import numpy as np

    from workbench.core.adversarial import quantize_8bit
    from workbench.core.preprocess import model_input, to_image
    from workbench.io.export import save_png
    from workbench.io.images import load_image

    levels = quantize_8bit(adv, x)
    if not args.out:
        return levels, "8-bit in memory"
    save_png(args.out, np.round(to_image(levels) * 255.0).astype(np.uint8), {"Caption": caption})
    return model_input(model, load_image(args.out)), "png"


def probabilities(model, logits):
    from workbench.core.predict import probabilities as probs_of

    return probs_of(model, logits)


def cmd_attack(args) -> int:
    if args.patch:
        return cmd_apply_patch(args)
    if not args.method:
        raise WorkbenchError(f"--method is required ({METHOD_HELP}) unless --patch is given")
    from workbench.core.adversarial import attack, get_attack
    from workbench.core.adversarial.base import Goal, describe_params, forward
    from workbench.core.preprocess import model_input
    from workbench.io.images import load_image

    method = get_attack(args.method)
    overrides = attack_overrides(method, args)
    image = load_image(args.image)
    model = image_model(args)
    x = model_input(model, image)
    targeted = resolve_target(args, model, x, image.shape[:2])
    model, goal_target = targeted.model, attack_goal(targeted, args.target)
    labels = None if targeted.label is None else [targeted.label]
    from workbench.cli.common import run_core

    with progress_context() as ctx:
        result = run_core(args, attack, model, x, args.method, target=goal_target,
                          params=overrides, ctx=ctx, labels=labels)
    adv = result.adversarial
    save_tensors(args, x, adv)
    before, after = result.probs_before[0], result.probs_after[0]
    caption = (f"{method.title} adversarial example, L∞ {result.linf[0] * 255:.2f}/255, "
               f"L2 {result.l2[0]:.3f}; {model.caption()}")
    stored, source = eight_bit_check(model, args, adv, x, caption)
    logits = forward(model, stored)
    goal = Goal(result.targets, result.targeted, result.source)
    probs = probabilities(model, logits)[0]
    summary = {
        "model": model.name, "method": method.name, "params": describe_params(result.params),
        "targeted": result.targeted,
        "target": class_row(model, after, int(result.targets[0])) if result.targeted else None,
        "before": class_row(model, before, int(result.top1_before[0])),
        "after": class_row(model, after, int(result.top1_after[0])),
        "success": bool(result.success[0]), "steps_run": result.steps_run,
        "linf": float(result.linf[0]), "linf_255": float(result.linf[0] * 255),
        "l2": float(result.l2[0]),
        "eight_bit": {"source": source, "path": args.out,
                      "top1": class_row(model, probs, int(logits.argmax(1)[0])),
                      "fools": bool(goal.reached(logits)[0]),
                      "linf_255": float((stored - x).abs().max() * 255)},
    }
    if targeted.dense:
        summary["dense_target"] = attack_scores(targeted, before, after, probs)
    print_attack(summary, args.json)
    return 0


def print_attack(summary: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    dense = summary.get("dense_target")
    if dense:
        gone = {True: ", vanished", False: ", still detected"}.get(dense.get("vanished"), "")
        print(f"target {target_text(dense)}; score {dense['score_before']:.3f} → "
              f"{dense['score_after']:.3f}{gone}")
    b, a, q = summary["before"], summary["after"], summary["eight_bit"]
    print(f"{summary['method']}: {b['label']} ({b['prob']:.1%}) → {a['label']} ({a['prob']:.1%});"
          f" L∞ {summary['linf_255']:.2f}/255, L2 {summary['l2']:.3f}")
    print(f"as 8-bit ({q['source']}): {q['top1']['label']} ({q['top1']['prob']:.1%}), "
          f"{'still fools the model' if q['fools'] else 'no longer fools the model'}")


def save_patch(path, patch, mask, target: int, caption: str) -> Path:
    """Write a patch as RGBA PNG (alpha = mask) with its target class in the metadata."""
    import numpy as np

    from workbench.io.export import save_png

    rgba = np.concatenate([patch.detach().cpu().numpy(), mask.detach().cpu().numpy()])
    return save_png(path, rgba.transpose(1, 2, 0), {"Caption": caption, "Target": target})


def load_patch(path):
    """``(patch (3, h, w), mask (1, h, w), target or None)`` from an image file."""
    import numpy as np
    import torch
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise ImageLoadError(path, "file not found")
    try:
        with Image.open(path, formats=("PNG", "WEBP", "TIFF", "BMP", "JPEG")) as image:
            rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
            target = getattr(image, "text", {}).get("Target")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageLoadError(path, f"not a readable patch image ({exc})") from exc
    tensor = torch.from_numpy(rgba.transpose(2, 0, 1).copy())
    return tensor[:3], tensor[3:], int(target) if target and target.isdigit() else None


def cmd_apply_patch(args) -> int:
    from workbench.core.adversarial.base import forward
    from workbench.core.adversarial.patch import apply_patch
    from workbench.core.preprocess import model_input, to_image
    from workbench.io.export import save_png
    from workbench.io.images import load_image

    if args.method:
        raise WorkbenchError("give either --method or --patch, not both")
    patch, mask, target = load_patch(args.patch)
    image = load_image(args.image)
    model = image_model(args)
    x = model_input(model, image)
    model = resolve_target(args, model, x, image.shape[:2]).model
    pasted = apply_patch(x, patch.to(x), mask.to(x), args.at, args.scale, args.angle)
    save_tensors(args, x, pasted)
    if args.out:
        save_png(args.out, to_image(pasted), {"Caption": f"patch {args.patch} pasted; "
                                                          f"{model.caption()}"})
    before = probabilities(model, forward(model, x))[0]
    after = probabilities(model, forward(model, pasted))[0]
    summary = {
        "model": model.name, "patch": str(args.patch), "at": args.at, "scale": args.scale,
        "angle": args.angle, "before": class_row(model, before, int(before.argmax())),
        "after": class_row(model, after, int(after.argmax())), "patch_target": None,
    }
    if target is not None and 0 <= target < model.num_classes:
        summary["patch_target"] = {"index": target, "label": model.label(target),
                                   "prob_before": float(before[target]),
                                   "prob_after": float(after[target])}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        b, a = summary["before"], summary["after"]
        print(f"patch: {b['label']} ({b['prob']:.1%}) → {a['label']} ({a['prob']:.1%})")
    return 0


def cmd_patch(args) -> int:
    import torch

    from workbench.cli.common import parse_params
    from workbench.core.adversarial.patch import PatchParams, patch_effect, train_patch
    from workbench.core.params import make
    from workbench.core.preprocess import model_input
    from workbench.io.images import expand_paths, load_image

    shim = SimpleNamespace(name="patch", params_cls=PatchParams)
    overrides = {"size": args.size, "shape": args.shape, "steps": args.steps,
                 **parse_params(shim, args.param)}
    params = make(PatchParams, overrides)
    paths = expand_paths(args.images)
    if not paths:
        raise WorkbenchError(f"no images found in {', '.join(args.images)}")
    model = image_model(args)
    if not 0 <= args.target < model.num_classes:
        raise WorkbenchError(f"--target {args.target} is outside 0 … {model.num_classes - 1}")
    batch = torch.cat([model_input(model, load_image(p)) for p in paths])
    with progress_context() as ctx:
        result = train_patch(model, batch, args.target, params, ctx)
    label = model.label(args.target)
    save_patch(args.out, result.patch, result.mask, args.target,
               f"adversarial patch for '{label}' ({params.shape}, {params.size} px, "
               f"{params.steps} steps, {len(paths)} images); {model.caption()}")
    clean = forward_probs(model, batch)[:, args.target]
    patched = patch_effect(model, batch, result.patch, result.mask, args.target)
    summary = {"model": model.name, "target": args.target, "label": label,
               "size": params.size, "shape": params.shape, "steps": result.steps_run,
               "images": len(paths), "out": str(args.out),
               "target_prob_clean": float(clean.mean()),
               "target_prob_patched": float(patched.mean())}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"patch for {label}: mean p({label}) {summary['target_prob_clean']:.2%} → "
              f"{summary['target_prob_patched']:.2%} on {len(paths)} training images; "
              f"saved {args.out}")
    return 0


def forward_probs(model, x):
    from workbench.core.adversarial.base import forward
    from workbench.core.predict import probabilities

    return probabilities(model, forward(model, x))


COMMANDS = {"attack": cmd_attack, "patch": cmd_patch}
