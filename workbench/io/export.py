"""Save pixel images as PNG, with an optional caption recorded in the PNG's text chunks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from workbench.io.atomic import atomic_path


def to_uint8(image: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` float in [0, 1] → uint8, rounding to the nearest level."""
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def save_png(path, image: np.ndarray, metadata: dict | None = None, overwrite=True) -> Path:
    """Write ``image`` (float RGB in [0, 1] or uint8) atomically, with text metadata."""
    array = image if image.dtype == np.uint8 else to_uint8(image)
    info = PngImagePlugin.PngInfo()
    for key, value in (metadata or {}).items():
        info.add_itxt(str(key), str(value))
    with atomic_path(path, overwrite) as tmp:
        Image.fromarray(array).save(tmp, format="PNG", pnginfo=info)
    return Path(path)
