"""A 2-D map as a PNG-ready scatter plot, drawn with Pillow only (no matplotlib, no Qt).

Points are coloured by label (Tableau's categorical palette; unknown labels grey),
drawn in a fixed shuffled order so no class hides the others, with a legend.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)
UNKNOWN = (120, 120, 120)
MARGIN = 24
LEGEND_ROWS = 20


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def label_colours(labels) -> np.ndarray:
    """``(N, 3)`` uint8 colours; label ``-1`` is grey, labels past 20 repeat the palette."""
    labels = np.asarray(labels, dtype=np.int64)
    table = np.array([_rgb(c) for c in PALETTE], dtype=np.uint8)
    colours = table[np.where(labels >= 0, labels, 0) % len(PALETTE)]
    colours[labels < 0] = UNKNOWN
    return colours


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()


def _to_pixels(coords: np.ndarray, box: tuple[int, int, int, int], inset: int = 8) -> np.ndarray:
    left, top, right, bottom = box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset
    low, high = coords.min(axis=0), coords.max(axis=0)
    span = np.where(high - low > 0, high - low, 1.0)
    unit = (coords - low) / span
    x = left + unit[:, 0] * (right - left)
    y = bottom - unit[:, 1] * (bottom - top)
    return np.stack([x, y], axis=1)


def render_scatter(coords, labels=None, label_names=None, size=(1000, 760), radius=None,
                   title: str = "") -> np.ndarray:
    """Draw ``coords`` ``(N, 2)`` as an ``(H, W, 3)`` uint8 image.

    Parameters
    ----------
    labels
        ``(N,)`` label indices (``-1``: unknown); ``None``: all unknown.
    label_names
        Names for the legend; without names (or labels) there is no legend.
    radius
        Point radius in pixels (default: smaller for larger maps).
    """
    coords = np.asarray(coords, dtype=np.float64)
    n = coords.shape[0]
    labels = np.full(n, -1) if labels is None else np.asarray(labels, dtype=np.int64)
    width, height = size
    legend = _legend_entries(labels, label_names)
    legend_width = 150 if legend else 0
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    top = MARGIN + (22 if title else 0)
    box = (MARGIN, top, width - MARGIN - legend_width, height - MARGIN)
    draw.rectangle(box, outline=(210, 210, 210))
    if title:
        draw.text((MARGIN, MARGIN - 4), title, fill=(30, 30, 30), font=_font(15))
    r = radius or (3.0 if n < 2000 else 2.0 if n < 20000 else 1.2)
    if n:
        _draw_points(draw, _to_pixels(coords, box), label_colours(labels), r)
    _draw_legend(draw, legend, (width - legend_width - MARGIN // 2 + 10, top))
    return np.asarray(image)


def _draw_points(draw, xy: np.ndarray, colours: np.ndarray, r: float) -> None:
    order = np.random.default_rng(0).permutation(len(xy))
    for i in order:
        x, y = xy[i]
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(c) for c in colours[i]))


def _legend_entries(labels: np.ndarray, names) -> list[tuple[str, tuple]]:
    if not names:
        return []
    present = sorted({int(v) for v in labels if v >= 0})
    entries = [(str(names[v]) if v < len(names) else f"class {v}",
                tuple(int(c) for c in label_colours([v])[0])) for v in present]
    if (labels < 0).any():
        entries.append(("unlabelled", UNKNOWN))
    if len(entries) > LEGEND_ROWS:
        entries = entries[: LEGEND_ROWS - 1] + [(f"… {len(entries) - LEGEND_ROWS + 1} more",
                                                 (255, 255, 255))]
    return entries


def _draw_legend(draw, entries, origin) -> None:
    x, y = origin
    font = _font(13)
    for text, colour in entries:
        draw.rectangle((x, y + 3, x + 10, y + 13), fill=colour)
        draw.text((x + 16, y), text[:18], fill=(30, 30, 30), font=font)
        y += 20
