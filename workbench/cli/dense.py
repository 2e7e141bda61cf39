"""Detectors and segmenters on the command line (DESIGN.md §11): the target options of
``cam``, ``occlusion`` and ``attack``, and which commands take a dense model at all.

A dense model's target is one detection (``--box INDEX``, best first, among those scoring at
least ``--threshold``) or one class over a region (``--class K`` alone: the class's
predicted region; ``--region MASK.png``: a mask, nonzero = inside).  :func:`resolve_target`
turns the options into :func:`~workbench.core.tasks.targets.scored_model`, a
classifier-like model whose class ``label`` is the target's score, so the commands run
their classifier code unchanged on it.  ``workbench predict`` is in :mod:`dense_predict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.errors import WorkbenchError

CLASSIFICATION = "classification"
# the commands that take a detector or a segmenter (every other one needs a classifier:
# add a command here once it handles `model.task`)
DENSE_COMMANDS = ("predict", "cam", "occlusion", "attack", "inspect")
NOTHING_NAMES = ("nothing", "none", "vanish")


def add_threshold_option(parser) -> None:
    parser.add_argument("--threshold", type=float, metavar="T",
                        help="a detector's score threshold in [0, 1] (default 0.5)")


def add_target_options(parser) -> None:
    """``--box``, ``--region``, ``--class`` and ``--threshold`` for a dense model."""
    group = parser.add_argument_group("detector / segmenter target")
    group.add_argument("--box", type=int, metavar="INDEX",
                       help="a detector's INDEX-th detection, best first, of those scoring at "
                            "least --threshold (default: the best, 0)")
    group.add_argument("--region", metavar="MASK.png",
                       help="a segmenter's region: a mask image of any size, nonzero = inside "
                            "(resized nearest to the model input)")
    group.add_argument("--class", dest="target_class", metavar="K",
                       help="class index or label: a segmenter's class (alone: its predicted "
                            "region; default: the largest non-background class), or only a "
                            "detector's detections of that class")
    add_threshold_option(group)


def task_word(model) -> str:
    return {"detection": "a detector", "segmentation": "a segmenter"}.get(
        model.task, f"a {model.task} model")


def check_task(model, command: str | None) -> None:
    """The one place a command refuses a dense model it cannot run (a one-line error)."""
    if model.task == CLASSIFICATION or command is None or command in DENSE_COMMANDS:
        return
    takes = ", ".join(c for c in DENSE_COMMANDS)
    raise WorkbenchError(f"'workbench {command}' needs a classifier; {model.name} is "
                         f"{task_word(model)} (commands that take it: {takes})")


def class_index(model, text, option: str = "--class") -> int:
    """A class given by label (exact, then case-insensitive) or by index."""
    text = str(text).strip()
    labels = list(model.labels)
    if text in labels:
        return labels.index(text)
    lowered = [label.lower() for label in labels]
    if text.lower() in lowered:
        return lowered.index(text.lower())
    try:
        index = int(text)
    except ValueError:
        shown = ", ".join(labels[:12]) + (", …" if len(labels) > 12 else "")
        raise WorkbenchError(f"{option} {text}: {model.name} has no class called that "
                             f"(labels: {shown})") from None
    if not 0 <= index < len(labels):
        raise WorkbenchError(f"{option} {text} is outside 0 … {len(labels) - 1} of {model.name}")
    return index


def threshold_of(args) -> float:
    from workbench.core.tasks.detection import DEFAULT_THRESHOLD

    value = getattr(args, "threshold", None)
    value = DEFAULT_THRESHOLD if value is None else value
    if not 0.0 <= value <= 1.0:
        raise WorkbenchError(f"--threshold must be in [0, 1], not {value}")
    return value


@dataclass
class Targeted:
    """A command's model seen through its target: ``model`` (the scored model, or the
    classifier itself), ``label`` (the class to explain; ``None``: the command's own
    default) and ``info`` (what the JSON summary reports about the target)."""

    model: object
    label: int | None = None
    info: dict = field(default_factory=dict)

    @property
    def dense(self) -> bool:
        return bool(self.info)


OPTIONS = (("box", "--box"), ("region", "--region"), ("target_class", "--class"),
           ("threshold", "--threshold"))


def given_options(args) -> list[str]:
    return [flag for name, flag in OPTIONS if getattr(args, name, None) is not None]


def options_of(args):
    """The target options (``None`` where a command lacks one)."""
    from types import SimpleNamespace

    return SimpleNamespace(**{name: getattr(args, name, None) for name, _ in OPTIONS})


def resolve_target(args, model, x, image_size) -> Targeted:
    """The target the options pick on the clean input ``x`` (model-input pixels of a
    picture of ``image_size`` ``(H, W)``); a classifier passes through unchanged."""
    if model.task == CLASSIFICATION:
        given = given_options(args)
        if given:
            raise WorkbenchError(f"{given[0]} is for a detector or a segmenter; {model.name} "
                                 "is a classifier (use --target CLASS)")
        return Targeted(model)
    if getattr(args, "target", None) is not None and getattr(args, "command", "") != "attack":
        raise WorkbenchError(f"--target is a classifier's class; {model.name} is "
                             f"{task_word(model)}: pick the target with --box, --class or "
                             "--region")
    if model.task == "detection":
        return detection_target(options_of(args), model, x, image_size)
    if model.task == "segmentation":
        return region_target(options_of(args), model, x)
    raise WorkbenchError(f"{model.name} has a task ({model.task}) no command can target")


def detection_target(args, model, x, image_size) -> Targeted:
    """``--box INDEX`` (``--class`` only among that class) → the scored detector."""
    from workbench.core.tasks.detection import raw_detections, to_detections
    from workbench.core.tasks.targets import DetectionTarget, scored_model

    if args.region is not None:
        raise WorkbenchError(f"--region is for a segmenter; {model.name} is a detector "
                             "(pick a detection with --box)")
    threshold = threshold_of(args)
    classes = None if args.target_class is None else [class_index(model, args.target_class)]
    (raw,) = raw_detections(model, x[:1])
    found = to_detections(raw, model, image_size, threshold, classes)
    index = 0 if args.box is None else args.box
    of_class = "" if classes is None else f" of class {model.label(classes[0])}"
    if not len(found):
        if not len(raw["scores"]):
            raise WorkbenchError(f"{model.name} finds no detection at all in this image, so "
                                 "there is no box to target")
        best = float(raw["scores"].max())
        raise WorkbenchError(f"{model.name} finds no detection{of_class} scoring at least "
                             f"{threshold:g} (best score {best:.3f}); lower --threshold")
    if not 0 <= index < len(found):
        raise WorkbenchError(f"--box {index} is out of range: {len(found)} detection(s)"
                             f"{of_class} score at least {threshold:g} (0 … {len(found) - 1})")
    row = found.as_rows()[index]
    target = DetectionTarget(tuple(float(v) for v in found.boxes[index]), int(row["class"]),
                             threshold=threshold)
    info = {"kind": "detection", "box_index": index, "threshold": threshold,
            "box": [row[k] for k in ("x0", "y0", "x1", "y1")],
            "box_input": [float(v) for v in found.boxes[index]],
            "class": row["class"], "label": row["label"], "score": row["score"]}
    return Targeted(scored_model(model, target), target.label, info)


def region_target(args, model, x) -> Targeted:
    """``--region`` / ``--class`` (default: the largest non-background class) → the scored
    segmenter."""
    from workbench.core.tasks.targets import RegionTarget, scored_model

    if args.box is not None:
        raise WorkbenchError(f"--box is for a detector; {model.name} is a segmenter "
                             "(pick a class with --class, a region with --region)")
    if args.threshold is not None:
        raise WorkbenchError(f"--threshold is for a detector; {model.name} is a segmenter")
    predicted = predicted_map(model, x)
    mask = None if args.region is None else load_region(args.region, model.input_size)
    if args.target_class is not None:
        label = class_index(model, args.target_class)
    else:
        label = largest_class(model, predicted if mask is None else predicted[mask])
    target = RegionTarget(label, mask)
    scored = scored_model(model, target, x)  # a clear error when the region is empty
    region = predicted == label if mask is None else mask
    info = {"kind": "region", "class": label, "label": model.label(label),
            "region": "predicted" if mask is None else str(args.region),
            "pixels": int(np.count_nonzero(region)), "share": float(region.mean()),
            "input_size": list(model.input_size)}
    return Targeted(scored, label, info)


def predicted_map(model, x) -> np.ndarray:
    """The ``(h, w)`` class-index map at the model input's size."""
    from workbench.core.tasks.segmentation import class_scores

    return class_scores(model, x[:1])[0].argmax(0).cpu().numpy()


def largest_class(model, classes: np.ndarray) -> int:
    """The most frequent class among ``classes`` that is not background (else background)."""
    counts = np.bincount(np.asarray(classes).ravel(), minlength=model.num_classes)
    if not counts.sum():
        raise WorkbenchError("the region is empty: the mask has no nonzero pixel")
    from workbench.io.annotate import background_classes

    ranked = [int(i) for i in np.argsort(-counts, kind="stable") if counts[i]]
    rest = [i for i in ranked if i not in background_classes(model.labels)]
    return (rest or ranked)[0]


def load_region(path, size) -> np.ndarray:
    """A mask image (nonzero = inside) as ``(h, w)`` bool at the model input's ``size``."""
    from PIL import Image

    from workbench.io.images import load_image

    picture = load_image(path, max_side=None)
    inside = (picture.max(axis=2) > 0).astype(np.uint8) * 255
    resized = Image.fromarray(inside, mode="L").resize((size[1], size[0]), Image.NEAREST)
    mask = np.asarray(resized) > 0
    if not mask.any():
        raise WorkbenchError(f"--region {path}: the region is empty at the model input's size "
                             f"{size[1]}×{size[0]} (no nonzero pixel)")
    return mask


def parse_attack_target(text: str):
    """The attack's ``--target`` (an argparse ``type``): ``least-likely``, a class index, or
    any other word (a label, or ``nothing``), resolved once the model is loaded."""
    from workbench.cli.adversarial import LEAST_LIKELY, parse_target

    try:
        return parse_target(text)
    except Exception:  # noqa: BLE001 - not an index nor least-likely: a name
        return text.strip() or LEAST_LIKELY


def attack_goal(targeted: Targeted, wanted):
    """The attack's ``--target`` on the target's model: ``None``, ``least-likely``, a class
    (index; for a dense model, a label first), or ``nothing`` to make a detection vanish."""
    from workbench.cli.adversarial import LEAST_LIKELY

    model = targeted.model
    if wanted is None or wanted == LEAST_LIKELY or (isinstance(wanted, int)
                                                     and not targeted.dense):
        return wanted
    if str(wanted).lower() in NOTHING_NAMES:
        if targeted.info.get("kind") != "detection":
            raise WorkbenchError(f"--target {wanted}: only a detection can vanish "
                                 f"(a detector with --box); {model.name} is not a detector")
        return len(model.labels) - 1
    return class_index(model, wanted, "--target")


def attack_scores(targeted, before, after, eight_bit) -> dict:
    """The target's score before and after the attack (and as 8-bit); for a detection,
    whether it vanished (its IoU-matched score fell below the threshold)."""
    label = targeted.label
    info = {**targeted.info, "score_before": float(before[label]),
            "score_after": float(after[label]), "score_eight_bit": float(eight_bit[label])}
    if info["kind"] == "detection":
        info["vanished"] = info["score_after"] < info["threshold"]
        info["vanished_eight_bit"] = info["score_eight_bit"] < info["threshold"]
    return info


def target_text(info: dict) -> str:
    """One line naming the target (the commands' text output)."""
    if info.get("kind") == "detection":
        x0, y0, x1, y1 = (round(v) for v in info["box"])
        return (f"detection {info['box_index']}: {info['label']} {info['score']:.2f} at "
                f"({x0}, {y0})–({x1}, {y1})")
    if info.get("kind") == "region":
        return (f"region: {info['label']} over {info['pixels']} pixels "
                f"({info['share']:.1%} of the input, {info['region']})")
    return ""
