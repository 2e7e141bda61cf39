"""A 2-D map as a figure: the points drawn with Pillow (no matplotlib, no Qt) at the map's
aspect, with a title, the legend beside it and the provenance caption
(:mod:`workbench.io.figure`), the same for the window and the command line.

Points are coloured by label with :func:`workbench.io.palette.categorical` (unknown labels
grey), drawn in a fixed shuffled order so no class hides the others.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from workbench.io.palette import UNKNOWN, categorical, hex_to_rgb, palette_note

LONG_SIDE = 1600
INSET = 16


def label_colours(labels, count: int | None = None) -> np.ndarray:
    """``(N, 3)`` uint8 colours; label ``-1`` is grey."""
    labels = np.asarray(labels, dtype=np.int64)
    count = int(labels.max()) + 1 if count is None and labels.size and labels.max() >= 0 \
        else (count or 1)
    table = np.array([hex_to_rgb(c) for c in categorical(max(1, count))], dtype=np.uint8)
    colours = table[np.clip(labels, 0, len(table) - 1)]
    colours[labels < 0] = hex_to_rgb(UNKNOWN)
    return colours


def _to_pixels(coords: np.ndarray, width: int, height: int) -> np.ndarray:
    low, high = coords.min(axis=0), coords.max(axis=0)
    span = np.where(high - low > 0, high - low, 1.0)
    unit = (coords - low) / span
    x = INSET + unit[:, 0] * (width - 2 * INSET)
    y = height - INSET - unit[:, 1] * (height - 2 * INSET)
    return np.stack([x, y], axis=1)


def render_scatter(coords, labels=None, aspect: float | None = None, radius=None,
                   colours: np.ndarray | None = None, dark: bool = False) -> np.ndarray:
    """Draw ``coords`` ``(N, 2)`` as an ``(H, W, 3)`` uint8 image.

    ``aspect`` is height / width (default: the data's own); the long side is
    :data:`LONG_SIDE` px.  ``colours`` ``(N, 3)`` overrides the label colours.
    """
    coords = np.asarray(coords, dtype=np.float64)
    n = coords.shape[0]
    labels = np.full(n, -1) if labels is None else np.asarray(labels, dtype=np.int64)
    if aspect is None:
        span = np.ptp(coords, axis=0) if n else np.ones(2)
        aspect = float(span[1] / span[0]) if span[0] > 0 else 1.0
    aspect = float(np.clip(aspect, 0.3, 3.0))
    width, height = (LONG_SIDE, int(LONG_SIDE * aspect)) if aspect <= 1 else \
        (int(LONG_SIDE / aspect), LONG_SIDE)
    image = Image.new("RGB", (width, height), (30, 31, 34) if dark else (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width - 1, height - 1), outline=(90, 90, 90) if dark else
                   (210, 210, 210))
    r = radius or (4.0 if n < 2000 else 3.0 if n < 20000 else 1.8)
    if n:
        colours = label_colours(labels) if colours is None else np.asarray(colours)
        _draw_points(draw, _to_pixels(coords, width, height), colours, r)
    return np.asarray(image)


def _draw_points(draw, xy: np.ndarray, colours: np.ndarray, r: float) -> None:
    order = np.random.default_rng(0).permutation(len(xy))
    for i in order:
        x, y = xy[i]
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(c) for c in colours[i]))


def legend_entries(labels, names) -> list[tuple[str, tuple[int, int, int]]]:
    """``(name (count), colour)`` for the labels present, as the figure's legend."""
    labels = np.asarray(labels, dtype=np.int64)
    if not names:
        return []
    table = categorical(len(names))
    present, counts = np.unique(labels[labels >= 0], return_counts=True)
    entries = [(f"{names[v] if v < len(names) else f'class {v}'} ({c})",
                hex_to_rgb(table[v] if v < len(table) else UNKNOWN))
               for v, c in zip(present.tolist(), counts.tolist(), strict=True)]
    if (labels < 0).any():
        entries.append((f"unlabelled ({int((labels < 0).sum())})", hex_to_rgb(UNKNOWN)))
    return entries


def scatter_panel(coords, labels, names, aspect=None, dark=False, colours=None,
                  entries=None):
    """The map as a :class:`~workbench.io.figure.FigurePanel` with its legend."""
    from workbench.io.figure import FigurePanel

    picture = render_scatter(coords, labels if colours is None else None, aspect,
                             colours=colours if colours is not None else (
                                 label_colours(labels, len(names)) if names else None),
                             dark=dark)
    entries = legend_entries(labels, names) if entries is None else entries
    return FigurePanel(picture, "", legend=entries, note=palette_note(len(entries)))
