"""Exported figures: a title, one or more pictures each with its colour bar or legend, and
the provenance caption — drawn with Pillow (no Qt), so the window and the command line
write the same figures, with fonts sized to the picture's resolution.

The caption is written in the picture when asked and always in the file: PNG text
chunks (``Title``, ``Caption``, ``Provenance`` as JSON, ``Software``) or, for SVG, the
``<title>``, ``<desc>`` and ``<metadata>`` elements around the embedded picture.
"""

from __future__ import annotations

import base64
import io
import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from workbench.io.atomic import write_bytes_atomic
from workbench.io.colormaps import lookup_table
from workbench.io.overlay import ColorScale

PANEL_SIDE = 560  # pictures are drawn at least this large (px)
FONT_SHARE = 0.028  # body text height as a share of a panel's side
LIGHT = {"background": (255, 255, 255), "ink": (25, 25, 25), "muted": (80, 80, 80)}
DARK = {"background": (30, 31, 34), "ink": (235, 235, 235), "muted": (190, 190, 190)}


@dataclass
class FigurePanel:
    """One picture of a figure: ``image`` ``(H, W, 3)`` in [0, 1] (or uint8)."""

    image: np.ndarray
    title: str = ""
    scale: ColorScale | None = None
    legend: list[tuple[str, tuple[int, int, int]]] = field(default_factory=list)
    note: str = ""  # a line under the picture (e.g. a warning that the map is constant)


def font(size: int, bold: bool = False):
    """A scalable font of ``size`` px (DejaVu when present, else Pillow's own)."""
    for name in (("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"),):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            pass
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()


def render_figure(panels: list[FigurePanel], title: str = "", caption: str = "",
                  columns: int | None = None, dark: bool = False) -> np.ndarray:
    """The whole figure as ``(H, W, 3)`` uint8."""
    colours = DARK if dark else LIGHT
    side = max(PANEL_SIDE, *(max(p.image.shape[:2]) for p in panels)) if panels else PANEL_SIDE
    body = max(14, int(side * FONT_SHARE))
    columns = columns or min(len(panels), 3) or 1
    cells = [_panel_image(p, side, body, colours) for p in panels]
    cell_w = max((c.width for c in cells), default=side)
    cell_h = max((c.height for c in cells), default=side)
    rows = (len(cells) + columns - 1) // columns
    margin = body
    width = columns * cell_w + (columns + 1) * margin
    head = _text_block(title, width - 2 * margin, int(body * 1.4), True, colours["ink"],
                       colours["background"]) if title else None
    foot = _text_block(caption, width - 2 * margin, int(body * 0.8), False, colours["muted"],
                       colours["background"]) if caption else None
    height = rows * cell_h + (rows + 1) * margin + (head.height + margin if head else 0) \
        + (foot.height + margin if foot else 0)
    canvas = Image.new("RGB", (width, height), colours["background"])
    y = margin
    if head:
        canvas.paste(head, (margin, y))
        y += head.height + margin
    for index, cell in enumerate(cells):
        r, c = divmod(index, columns)
        canvas.paste(cell, (margin + c * (cell_w + margin), y + r * (cell_h + margin)))
    if foot:
        canvas.paste(foot, (margin, y + rows * (cell_h + margin)))
    return np.asarray(canvas)


def _panel_image(panel: FigurePanel, side: int, body: int, colours) -> Image.Image:
    picture = _to_pil(panel.image)
    scale = side / max(picture.size)
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    resample = Image.Resampling.NEAREST if scale >= 4 else Image.Resampling.BICUBIC
    picture = picture.resize(size, resample)
    parts = []
    if panel.scale is not None:
        parts.append(_colorbar(panel.scale, picture.height, body, colours))
    if panel.legend:
        parts.append(_legend(panel.legend, picture.height, body, colours))
    gap = body // 2
    width = picture.width + sum(p.width + gap for p in parts)
    title = _text_block(panel.title, width, body, True, colours["ink"],
                        colours["background"]) if panel.title else None
    note = _text_block(panel.note, width, body, False, colours["ink"],
                       colours["background"]) if panel.note else None
    height = picture.height + (title.height + gap if title else 0) + \
        (note.height + gap if note else 0)
    cell = Image.new("RGB", (width, height), colours["background"])
    y = 0
    if title:
        cell.paste(title, (0, 0))
        y = title.height + gap
    cell.paste(picture, (0, y))
    x = picture.width + gap
    for part in parts:
        cell.paste(part, (x, y))
        x += part.width + gap
    if note:
        cell.paste(note, (0, y + picture.height + gap))
    return cell


def _colorbar(scale: ColorScale, height: int, body: int, colours) -> Image.Image:
    small = font(int(body * 0.85))
    bar_w = max(12, body)
    ticks = scale.ticks()
    label_w = max(int(small.getlength(text)) for _, text in ticks) if ticks else 0
    title = _rotated_lines(scale.title_lines, small, height, colours)
    width = bar_w + 6 + label_w + body // 2 + title.width
    image = Image.new("RGB", (width, height), colours["background"])
    draw = ImageDraw.Draw(image)
    pad = body // 2
    top, bottom = pad, height - pad
    strip = lookup_table(scale.colormap)[::-1][None].repeat(bar_w, axis=0).transpose(1, 0, 2)
    bar = Image.fromarray(np.ascontiguousarray(strip)).resize((bar_w, bottom - top))
    image.paste(bar, (0, top))
    draw.rectangle((0, top, bar_w - 1, bottom - 1), outline=colours["ink"])
    for position, text in ticks:
        y = bottom - position * (bottom - top)
        draw.line((bar_w, y, bar_w + 5, y), fill=colours["ink"], width=max(1, body // 12))
        draw.text((bar_w + 8, y), text, fill=colours["ink"], font=small, anchor="lm")
    image.paste(title, (width - title.width, 0))
    return image


def _rotated_lines(lines, face, length: int, colours) -> Image.Image:
    """Each line rotated to read upwards, the first one nearest the bar."""
    strips = [_rotated_text(line, face, length, colours) for line in lines]
    width = sum(s.width for s in strips)
    image = Image.new("RGB", (width, length), colours["background"])
    x = 0
    for strip in strips:
        image.paste(strip, (x, 0))
        x += strip.width
    return image


def _rotated_text(text: str, face, length: int, colours) -> Image.Image:
    while text and face.getlength(text) > length - 4:
        text = text[: max(1, len(text) - 4)] + "…" if len(text) > 4 else text[:-1]
    box = face.getbbox(text or " ")
    strip = Image.new("RGB", (max(1, length), box[3] + 4), colours["background"])
    ImageDraw.Draw(strip).text((length / 2, 2), text, fill=colours["ink"], font=face,
                               anchor="mt")
    return strip.rotate(90, expand=True)


def _legend(entries, height: int, body: int, colours) -> Image.Image:
    small = font(int(body * 0.85))
    line = int(body * 1.3)
    shown = entries[: max(1, height // line)]
    if len(shown) < len(entries):
        shown = shown[:-1] + [(f"… {len(entries) - len(shown) + 1} more", None)]
    width = body + 6 + max(int(small.getlength(name)) for name, _ in shown)
    image = Image.new("RGB", (width, height), colours["background"])
    draw = ImageDraw.Draw(image)
    for row, (name, colour) in enumerate(shown):
        y = row * line + line // 2
        if colour is not None:
            draw.rectangle((0, y - body // 2 + 2, body - 4, y + body // 2 - 2), fill=colour)
        draw.text((body + 2, y), name, fill=colours["ink"], font=small, anchor="lm")
    return image


def _text_block(text: str, width: int, size: int, bold: bool, ink, background) -> Image.Image:
    face = font(size, bold)
    average = max(1.0, face.getlength("abcdefghijklmnopqrstuvwxyz") / 26)
    lines = []
    for paragraph in text.split("\n"):
        lines += textwrap.wrap(paragraph, max(8, int(width / average))) or [""]
    line_h = int(size * 1.3)
    image = Image.new("RGB", (max(1, width), line_h * len(lines) + 2), background)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((0, row * line_h), line, fill=ink, font=face)
    return image


def _to_pil(image: np.ndarray) -> Image.Image:
    array = image if image.dtype == np.uint8 else \
        (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(array[..., :3]))


# ------------------------------------------------------------------------- files
def metadata_of(title: str, caption: str, provenance: dict | None) -> dict:
    """The text every exported file carries."""
    from workbench import __version__

    meta = {"Title": title, "Caption": caption, "Software": f"Workbench {__version__}"}
    if provenance:
        meta["Provenance"] = json.dumps(provenance, sort_keys=True)
    return {k: v for k, v in meta.items() if v}


def save_figure(path, figure: np.ndarray, metadata: dict, overwrite: bool = True) -> Path:
    """Write ``figure`` as PNG (text chunks) or SVG (by the suffix), atomically."""
    path = Path(path)
    if path.suffix.lower() == ".svg":
        write_bytes_atomic(path, svg_bytes(figure, metadata), overwrite=overwrite)
        return path
    from workbench.io.export import save_png

    return save_png(path, figure, metadata, overwrite)


def svg_bytes(figure: np.ndarray, metadata: dict) -> bytes:
    from xml.sax.saxutils import escape

    buffer = io.BytesIO()
    Image.fromarray(figure).save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    h, w = figure.shape[:2]
    meta = escape(json.dumps(metadata, sort_keys=True))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" '
            f'xmlns:xlink="http://www.w3.org/1999/xlink" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}">\n'
            f'<title>{escape(metadata.get("Title", ""))}</title>\n'
            f'<desc>{escape(metadata.get("Caption", ""))}</desc>\n'
            f'<metadata>{meta}</metadata>\n'
            f'<image width="{w}" height="{h}" xlink:href="data:image/png;base64,{data}"/>\n'
            '</svg>\n').encode()
