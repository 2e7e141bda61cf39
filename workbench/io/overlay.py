"""Heat map over an image, for exports and the CLI (the GUI draws the same live)."""

from __future__ import annotations

import numpy as np

from workbench.io.colormaps import colorize


def display_values(heat: np.ndarray, normalized: bool = True) -> np.ndarray:
    """A raw map as values in [0, 1] for display.

    ``normalized``: min-max scaled (a constant map becomes zeros); otherwise
    divided by its largest magnitude, so zero stays zero.  A clip's map
    ``(T, H, W)`` is averaged over time first.
    """
    heat = np.asarray(heat, dtype=np.float32)
    if heat.ndim == 3:
        heat = heat.mean(axis=0)
    if normalized:
        low, high = float(heat.min()), float(heat.max())
        if high - low <= 1e-12:
            return np.zeros_like(heat)
        return (heat - low) / (high - low)
    scale = float(np.abs(heat).max()) or 1.0
    return np.clip(heat / scale, 0.0, 1.0)


def overlay(image: np.ndarray, heat: np.ndarray, colormap: str = "inferno",
            opacity: float = 0.5, threshold: float = 0.0, normalized: bool = True) -> np.ndarray:
    """Blend ``heat`` (H, W) over ``image`` (H, W, 3); values under ``threshold`` stay clear."""
    values = display_values(heat, normalized)
    colors = colorize(values, colormap)
    alpha = np.where(values >= threshold, opacity, 0.0)[..., None].astype(np.float32)
    return (image * (1 - alpha) + colors * alpha).astype(np.float32)
