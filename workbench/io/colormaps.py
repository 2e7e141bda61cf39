"""Colour maps as 256-entry lookup tables (numpy only, shared by the GUI and exports).

Anchors are sampled from matplotlib's perceptually uniform maps (viridis,
inferno, magma) and the classic jet / hot; the tables interpolate linearly.
"""

from __future__ import annotations

import numpy as np

ANCHORS = {
    "inferno": ["#000004", "#1f0c48", "#550f6d", "#88226a", "#ba3655", "#e35933", "#f98e09",
                "#f8c932", "#fcffa4"],
    "viridis": ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962",
                "#addc30", "#fde725"],
    "magma": ["#000004", "#1c1044", "#4f127b", "#812581", "#b5367a", "#e55964", "#fb8761",
              "#fec287", "#fcfdbf"],
    "jet": ["#00007f", "#0000ff", "#007fff", "#00ffff", "#7fff7f", "#ffff00", "#ff7f00",
            "#ff0000", "#7f0000"],
    "hot": ["#0b0000", "#600000", "#b50000", "#ff0b00", "#ff6000", "#ffb500", "#ffff0b",
            "#ffff80", "#ffffff"],
    "grey": ["#000000", "#ffffff"],
}
COLORMAPS = tuple(ANCHORS)


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return tuple(int(hex_color[i : i + 2], 16) for i in (1, 3, 5))


def lookup_table(name: str, size: int = 256) -> np.ndarray:
    """``(size, 3)`` uint8 RGB table for colour map ``name``."""
    anchors = np.array([_rgb(c) for c in ANCHORS[name]], dtype=np.float64)
    positions = np.linspace(0.0, 1.0, len(anchors))
    samples = np.linspace(0.0, 1.0, size)
    table = np.stack([np.interp(samples, positions, anchors[:, c]) for c in range(3)], axis=1)
    return np.round(table).astype(np.uint8)


def colorize(values: np.ndarray, name: str) -> np.ndarray:
    """Values in [0, 1] → float RGB in [0, 1] through colour map ``name``."""
    table = lookup_table(name).astype(np.float32) / 255.0
    index = np.clip(np.nan_to_num(values) * 255.0 + 0.5, 0, 255).astype(np.int64)
    return table[index]


def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB colours ``(..., 3)`` in 0…255."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def contrast_ratio(a, b) -> np.ndarray:
    la, lb = relative_luminance(a), relative_luminance(b)
    return (np.maximum(la, lb) + 0.05) / (np.minimum(la, lb) + 0.05)
