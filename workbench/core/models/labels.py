"""Label lists that ship inside torchvision (no download needed)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from workbench.errors import ModelLoadError


@lru_cache(maxsize=1)
def imagenet_labels() -> tuple[str, ...]:
    from torchvision.models import ResNet18_Weights

    return tuple(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


@lru_cache(maxsize=1)
def kinetics400_labels() -> tuple[str, ...]:
    from torchvision.models.video import R3D_18_Weights

    return tuple(R3D_18_Weights.KINETICS400_V1.meta["categories"])


def read_labels_file(path, num_classes: int | None = None) -> list[str]:
    """One label per line; blank lines at the end are ignored."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"Cannot read labels file '{path}': {exc}") from exc
    labels = [line.strip() for line in text.rstrip("\n").splitlines()]
    if num_classes is not None and len(labels) != num_classes:
        raise ModelLoadError(
            f"Labels file '{path}' has {len(labels)} lines but the model has {num_classes} classes"
        )
    return labels


def generic_labels(num_classes: int) -> list[str]:
    return [f"class {i}" for i in range(num_classes)]
