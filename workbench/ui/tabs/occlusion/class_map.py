"""The "most probable class at every window position" map, with its legend."""

from __future__ import annotations

import numpy as np

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39"]
OTHER = "#cccccc"


def _rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))


def class_colors(top_class: np.ndarray) -> dict[int, str]:
    """A colour per class, most frequent first; rare classes beyond the palette share grey."""
    classes, counts = np.unique(top_class[top_class >= 0], return_counts=True)
    order = classes[np.argsort(-counts)]
    return {int(c): (PALETTE[i] if i < len(PALETTE) else OTHER) for i, c in enumerate(order)}


def class_image(top_class: np.ndarray, colors: dict[int, str]) -> np.ndarray:
    """``(rows, cols, 4)`` uint8 RGBA; positions not computed yet are transparent."""
    rgba = np.zeros((*top_class.shape, 4), np.uint8)
    for index, color in colors.items():
        rgba[top_class == index] = (*_rgb(color), 255)
    return rgba


def legend_html(colors: dict[int, str], labels, counts: dict[int, int]) -> str:
    rows = [f'<span style="color:{color}">■</span> {labels[index]} ({counts[index]})'
            for index, color in colors.items()]
    return "<br>".join(rows)
