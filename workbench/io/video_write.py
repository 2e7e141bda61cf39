"""Writing videos and timelines (PyAV and Pillow, no Qt): annotated MP4 / GIF exports and
the per-frame probabilities as a chart.

An annotated frame carries the frame (with the map over it when given), the top-1 label
and probability — raw and smoothed — and the frame's time, burned in.  MP4 is H.264
(``libx264``) where the encoder exists, MPEG-4 Part 2 otherwise; GIF is FFmpeg's GIF
encoder on a 256-colour palette.  Files are written to a temporary name and renamed.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from workbench.io.atomic import atomic_path
from workbench.io.figure import font

VIDEO_SUFFIXES = (".mp4", ".gif")


@dataclass
class FrameNote:
    """What is written on one exported frame."""

    time: float
    label: str
    prob: float
    smoothed_label: str = ""
    smoothed_prob: float = float("nan")


def encoder_for(suffix: str) -> tuple[str, str]:
    """``(codec, pixel format)`` for ``suffix``: H.264 when this FFmpeg has it."""
    import av

    if suffix == ".gif":
        return "gif", "rgb8"
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    return codec, "yuv420p"


def annotate(picture: np.ndarray, note: FrameNote, credit: str = "") -> np.ndarray:
    """``picture`` (uint8 RGB) with a band of text under it."""
    height, width = picture.shape[:2]
    size = max(12, width // 34)
    lines = [f"{note.time:6.2f} s   {note.label} {note.prob:.1%}"]
    if note.smoothed_label:
        lines.append(f"smoothed: {note.smoothed_label} {note.smoothed_prob:.1%}")
    if credit:
        lines.append(credit)
    band = int(size * 1.45 * len(lines) + size * 0.6)
    canvas = Image.new("RGB", (width, height + band), (20, 20, 20))
    canvas.paste(Image.fromarray(picture), (0, 0))
    draw = ImageDraw.Draw(canvas)
    face = font(size)
    for number, line in enumerate(lines):
        draw.text((size // 2, height + size * 0.3 + number * size * 1.45), line,
                  fill=(240, 240, 240), font=face)
    return np.asarray(canvas)


def even(picture: np.ndarray) -> np.ndarray:
    """Crop to even sides (4:2:0 video needs them)."""
    height, width = picture.shape[:2]
    return picture[: height - height % 2, : width - width % 2]


def write_video(path, frames, fps: float, ctx=None) -> Path:
    """Encode ``frames`` (an iterable of uint8 RGB arrays, all the same size) to ``path``."""
    import av

    path = Path(path)
    codec, pix_fmt = encoder_for(path.suffix.lower())
    rate = Fraction(fps).limit_denominator(1001)
    with atomic_path(path) as tmp:
        with av.open(str(tmp), "w", format="gif" if codec == "gif" else "mp4") as container:
            stream = None
            for number, picture in enumerate(frames):
                if ctx is not None:
                    ctx.check()
                picture = even(picture)
                if stream is None:
                    stream = container.add_stream(codec, rate=rate)
                    stream.height, stream.width = picture.shape[:2]
                    stream.pix_fmt = pix_fmt
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture),
                                                   format="rgb24")
                frame.pts = number
                for packet in stream.encode(frame):
                    container.mux(packet)
            if stream is not None:
                for packet in stream.encode():
                    container.mux(packet)
    return path


# ---------------------------------------------------------------------- timeline
def render_timeline(times, series: dict, size=(1400, 520), cursor: float | None = None,
                    dark: bool = False, top1: list[str] | None = None) -> np.ndarray:
    """A line chart of probability (0…1) against time, one line per ``series`` entry
    ``name → (values, rgb)``; a dashed cursor at ``cursor`` seconds; the per-frame top-1
    labels as a strip underneath.  Returns uint8 RGB."""
    width, height = size
    ink, paper, grid = ((230, 230, 230), (30, 31, 34), (70, 72, 78)) if dark else \
        ((30, 30, 30), (255, 255, 255), (220, 220, 220))
    body = max(14, width // 56)
    face = font(body)
    image = Image.new("RGB", size, paper)
    draw = ImageDraw.Draw(image)
    left, right = body * 4, width - body * 3  # room for the last tick label, centred
    top, bottom = body, height - body * (5 if top1 else 3)
    times = np.asarray(times, np.float64)
    span = (times.min(), times.max()) if len(times) else (0.0, 1.0)
    stretch = max(span[1] - span[0], 1e-9)

    def x_of(t):
        return left + (t - span[0]) / stretch * (right - left)

    def y_of(p):
        return bottom - p * (bottom - top)

    for value in (0.0, 0.25, 0.5, 0.75, 1.0):
        draw.line((left, y_of(value), right, y_of(value)), fill=grid)
        draw.text((left - body // 2, y_of(value)), f"{value:g}", fill=ink, font=face,
                  anchor="rm")
    for tick in np.linspace(span[0], span[1], 6):
        draw.text((x_of(tick), bottom + body // 2), f"{tick:.1f} s", fill=ink, font=face,
                  anchor="mt")
    for values, colour in series.values():
        points = [(x_of(t), y_of(v)) for t, v in zip(times, values, strict=True)
                  if np.isfinite(v)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=max(2, body // 6))
    if cursor is not None:
        x = x_of(cursor)
        for y in range(int(top), int(bottom), 8):
            draw.line((x, y, x, min(bottom, y + 4)), fill=ink, width=2)
    if top1:
        _label_strip(draw, top1, times, x_of, bottom + body * 2, face, ink)
    return np.asarray(image)


def _label_strip(draw, labels, times, x_of, y, face, ink) -> None:
    """The top-1 label of each stretch of frames that share it, written where it fits."""
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            x0, x1 = x_of(times[start]), x_of(times[i - 1])
            draw.line((x0, y, max(x1, x0 + 2), y), fill=ink, width=3)
            text = labels[start]
            if face.getlength(text) < max(x1 - x0, 1) + 40:
                draw.text((x0, y + 4), text, fill=ink, font=face)
            start = i
