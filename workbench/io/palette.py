"""Categorical colours: as many distinguishable colours as there are classes.

The first ten are Tableau 10 (the colours readers know from matplotlib); further ones
are chosen greedily, each as far as possible (in CIE L*a*b*) from those already taken
and from both themes' backgrounds — the idea of Glasbey et al., "Colour displays for
categorical images" (2007), https://doi.org/10.1002/col.20327.  Past
:data:`DISTINGUISHABLE` classes colours come closer than the eye separates at a glance;
:func:`palette_note` says so.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

TABLEAU10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
             "#7f7f7f", "#bcbd22", "#17becf")
UNKNOWN = "#9a9a9a"
DISTINGUISHABLE = 32
BACKGROUNDS = ("#ffffff", "#1e1f22")
LIGHTNESS = (32.0, 82.0)  # visible on white and on the dark background


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i: i + 2], 16) for i in (1, 3, 5))


def _lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB 0…255 ``(..., 3)`` → CIE L*a*b* (D65)."""
    c = np.asarray(rgb, np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124, 0.2126, 0.0193], [0.3576, 0.7152, 0.1192],
                             [0.1805, 0.0722, 0.9505]])
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


@lru_cache(maxsize=8)
def categorical(count: int) -> tuple[str, ...]:
    """``count`` colours as ``#rrggbb``; the same count always gives the same colours."""
    chosen = list(TABLEAU10[: max(0, count)])
    if count <= len(chosen):
        return tuple(chosen[:count])
    levels = np.linspace(0, 255, 18)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    lab = _lab(grid)
    usable = (lab[:, 0] >= LIGHTNESS[0]) & (lab[:, 0] <= LIGHTNESS[1])
    grid, lab = grid[usable], lab[usable]
    taken = _lab(np.array([hex_to_rgb(c) for c in (*chosen, *BACKGROUNDS)], np.float64))
    nearest = np.min(np.linalg.norm(lab[:, None] - taken[None], axis=2), axis=1)
    while len(chosen) < count:
        best = int(np.argmax(nearest))
        chosen.append("#" + "".join(f"{int(round(v)):02x}" for v in grid[best]))
        nearest = np.minimum(nearest, np.linalg.norm(lab - lab[best], axis=1))
    return tuple(chosen)


def class_colors(count: int) -> list[tuple[int, int, int]]:
    return [hex_to_rgb(c) for c in categorical(count)]


def palette_note(count: int) -> str:
    """A plain sentence when ``count`` classes are more than colours can tell apart."""
    if count <= DISTINGUISHABLE:
        return ""
    return (f"{count} classes: colours past {DISTINGUISHABLE} are hard to tell apart; hover a "
            "point to read its class, or colour by fewer classes")
