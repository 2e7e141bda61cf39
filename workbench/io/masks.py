"""Occlusion masks as PNG files: white (or any non-zero) = hidden."""

from __future__ import annotations

import numpy as np
from PIL import Image

from workbench.errors import ImageLoadError
from workbench.io.atomic import atomic_path
from workbench.io.images import load_image


def load_mask(path) -> np.ndarray:
    """A ``(H, W)`` bool mask from a PNG (any image: brightness above one half = hidden)."""
    try:
        image = load_image(path, max_side=None)
    except ImageLoadError as exc:
        raise ImageLoadError(path, f"not a usable mask: {exc.problem}") from exc
    return image.mean(axis=2) > 0.5


def save_mask(path, mask: np.ndarray, overwrite: bool = True) -> None:
    """Write ``mask`` as an 8-bit greyscale PNG (255 = hidden), atomically."""
    data = np.where(np.asarray(mask) > 0.5, 255, 0).astype(np.uint8)
    with atomic_path(path, overwrite) as tmp:
        Image.fromarray(data, mode="L").save(tmp, format="PNG")
