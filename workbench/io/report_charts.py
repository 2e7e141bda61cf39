"""Small pictures a report's figures need besides maps: a horizontal bar chart (top-k
probabilities, MACs per block) and a row of thumbnails (nearest neighbours) — Pillow only,
drawn at a size :func:`workbench.io.figure.render_figure` places beside other panels."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from workbench.io.figure import DARK, LIGHT, font

BAR = (52, 101, 164)


def bar_chart(labels: list[str], values: list[float], side: int = 560, unit: str = "",
              maximum: float | None = None, dark: bool = False) -> np.ndarray:
    """Bars left to right for ``values`` (one per label, drawn top to bottom), each with its
    label above it and its value at its end; ``(side, side, 3)`` uint8."""
    colours = DARK if dark else LIGHT
    image = Image.new("RGB", (side, side), colours["background"])
    draw = ImageDraw.Draw(image)
    count = max(1, len(values))
    body = max(12, min(int(side * 0.035), int(side / (count * 2.6))))
    face, small = font(body), font(int(body * 0.9))
    row = side / count
    top = max(values) if values else 1.0
    top = maximum if maximum is not None else (top if top > 0 else 1.0)
    width = side - body * 6
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = i * row + row * 0.08
        text = _fit(label, face, side - 4)
        draw.text((2, y), text, fill=colours["ink"], font=face)
        bar_top = y + body * 1.25
        bar_h = max(4.0, row * 0.84 - body * 1.35)
        length = max(1.0, width * max(0.0, float(value)) / top)
        draw.rectangle((2, bar_top, 2 + length, bar_top + bar_h), fill=BAR)
        draw.text((8 + length, bar_top + bar_h / 2), _number(value, unit), anchor="lm",
                  fill=colours["ink"], font=small)
    return np.asarray(image)


def thumbnail_grid(images: list[np.ndarray], captions: list[str], side: int = 560,
                   columns: int = 4, dark: bool = False) -> np.ndarray:
    """``images`` (float in [0, 1] or uint8) in a grid, each with its caption under it."""
    colours = DARK if dark else LIGHT
    columns = max(1, min(columns, len(images) or 1))
    rows = max(1, -(-len(images) // columns))
    cell = side // columns
    body = max(11, int(cell * 0.1))
    face = font(body)
    height = rows * (cell + body * 2)
    canvas = Image.new("RGB", (side, height), colours["background"])
    draw = ImageDraw.Draw(canvas)
    for index, (picture, caption) in enumerate(zip(images, captions, strict=True)):
        r, c = divmod(index, columns)
        x, y = c * cell, r * (cell + body * 2)
        array = picture if picture.dtype == np.uint8 else \
            (np.clip(picture, 0, 1) * 255 + 0.5).astype(np.uint8)
        thumb = Image.fromarray(np.ascontiguousarray(array[..., :3]))
        thumb.thumbnail((cell - 6, cell - 6), Image.Resampling.BICUBIC)
        if max(thumb.size) < cell // 2:  # tiny inputs (8×8 digits): blow up, keep pixels
            factor = (cell - 6) // max(thumb.size)
            thumb = thumb.resize((thumb.width * factor, thumb.height * factor),
                                 Image.Resampling.NEAREST)
        canvas.paste(thumb, (x + (cell - thumb.width) // 2, y + 3))
        draw.text((x + cell / 2, y + cell + 2), _fit(caption, face, cell - 4), anchor="mt",
                  fill=colours["ink"], font=face)
    return np.asarray(canvas)


def _fit(text: str, face, width: float) -> str:
    while len(text) > 2 and face.getlength(text) > width:
        text = text[:-2] + "…"
    return text


def _number(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.1%}"
    if abs(value) >= 1e9:
        return f"{value / 1e9:.2f} G{unit}"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.2f} M{unit}"
    if abs(value) >= 1e3:
        return f"{value / 1e3:.1f} K{unit}"
    return f"{value:.3g}{unit}"
