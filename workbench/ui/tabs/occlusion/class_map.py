"""The "most probable class at every window position" map: one colour per class."""

from __future__ import annotations

import numpy as np

from workbench.io.palette import categorical, hex_to_rgb


def class_colors(top_class: np.ndarray) -> dict[int, str]:
    """A distinguishable colour per class present, the most frequent class first."""
    classes, counts = np.unique(top_class[top_class >= 0], return_counts=True)
    order = classes[np.argsort(-counts, kind="stable")]
    palette = categorical(len(order))
    return {int(c): palette[i] for i, c in enumerate(order)}


def class_image(top_class: np.ndarray, colors: dict[int, str]) -> np.ndarray:
    """``(rows, cols, 4)`` uint8 RGBA; positions not computed yet are transparent."""
    rgba = np.zeros((*top_class.shape, 4), np.uint8)
    for index, color in colors.items():
        rgba[top_class == index] = (*hex_to_rgb(color), 255)
    return rgba
