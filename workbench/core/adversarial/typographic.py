"""The typographic attack: write a word on the picture and watch the prediction follow it.

Goh et al. 2021, "Multimodal neurons in artificial neural networks",
https://distill.pub/2021/multimodal-neurons/ — a CLIP model reads: an apple with a note
saying "iPod" is classified as an iPod (Radford et al. 2021,
https://arxiv.org/abs/2103.00020).  It works on any model; with CLIP (``clip:`` models,
whose labels are typed prompts) it is the lecture's slide.

Text is rendered with Pillow into a coverage mask and blended in float, so the pixels away
from the word are unchanged.  Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.core import fastpath
from workbench.errors import InputError

WHITE = (1.0, 1.0, 1.0)
BLACK = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class TextSpec:
    """A word on the picture.

    ``position`` is the centre of the text in the picture's pixels ``(x, y)``; ``size`` is
    the font size in pixels; ``color`` and ``background`` are RGB in [0, 1] (``background``
    ``None``: no note behind the text); ``padding`` is the note's margin in font sizes.
    """

    text: str
    position: tuple[float, float]
    size: float = 40.0
    color: tuple[float, float, float] = BLACK
    background: tuple[float, float, float] | None = WHITE
    padding: float = 0.25


@dataclass
class TypographicResult:
    written: np.ndarray  # (H, W, 3) the picture with the word on it
    box: tuple[int, int, int, int]  # (left, top, right, bottom) of the note in pixels
    before: list = field(default_factory=list)  # ClassScore of the clean picture, best first
    after: list = field(default_factory=list)  # ... of the written picture
    probs_before: np.ndarray | None = None
    probs_after: np.ndarray | None = None


def _font(size: float):
    from PIL import ImageFont

    return ImageFont.load_default(size=max(1.0, float(size)))


def text_box(spec: TextSpec) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` of the text and its note, centred on ``position``."""
    if not spec.text.strip():
        x, y = spec.position
        return int(x), int(y), int(x), int(y)
    font = _font(spec.size)
    left, top, right, bottom = font.getbbox(spec.text)
    pad = spec.padding * spec.size if spec.background is not None else 0.0
    width, height = right - left + 2 * pad, bottom - top + 2 * pad
    x, y = spec.position
    x0, y0 = round(x - width / 2), round(y - height / 2)
    return x0, y0, x0 + round(width), y0 + round(height)


def _check_color(color, name: str) -> np.ndarray:
    value = np.asarray(color, dtype=np.float32)
    if value.shape != (3,) or not np.isfinite(value).all() or (value < 0).any() or (
            value > 1).any():
        raise InputError(f"{name} must be three numbers in [0, 1], got {color}")
    return value


def write_text(image: np.ndarray, spec: TextSpec) -> np.ndarray:
    """``image`` (H, W, 3) float in [0, 1] with ``spec``'s word written on it (a new array)."""
    from PIL import Image, ImageDraw

    from workbench.core.preprocess import check_image

    check_image(image)
    color = _check_color(spec.color, "the text colour")
    out = np.array(image, dtype=np.float32, copy=True)
    if not spec.text.strip():
        return out
    if not 1 <= spec.size <= 4 * max(image.shape[:2]):
        raise InputError(f"font size {spec.size} px is outside 1 … {4 * max(image.shape[:2])}")
    h, w = image.shape[:2]
    left, top, right, bottom = text_box(spec)
    if spec.background is not None:
        note = _check_color(spec.background, "the note colour")
        y0, y1, x0, x1 = max(0, top), min(h, bottom), max(0, left), min(w, right)
        if y1 > y0 and x1 > x0:
            out[y0:y1, x0:x1] = note
    font = _font(spec.size)
    mask = Image.new("L", (w, h), 0)
    fl, ft, fr, fb = font.getbbox(spec.text)
    x, y = spec.position
    origin = (x - (fr - fl) / 2 - fl, y - (fb - ft) / 2 - ft)
    ImageDraw.Draw(mask).text(origin, spec.text, fill=255, font=font)
    alpha = np.asarray(mask, dtype=np.float32)[..., None] / 255.0
    return out * (1.0 - alpha) + color * alpha


def typographic_effect(model, image: np.ndarray, spec: TextSpec, k: int = 5,
                       ctx=None) -> TypographicResult:
    """The model's top-``k`` on the clean picture and on the written one (one batch of two)."""
    import torch

    from workbench.core.predict import probabilities, top_scores
    from workbench.core.preprocess import model_input

    if ctx is not None:
        ctx.check()
    written = write_text(image, spec)
    if model.kind == "video":
        raise InputError("the typographic attack writes on a picture; load an image model")
    batch = torch.cat([model_input(model, image), model_input(model, written)])
    with torch.inference_mode():
        logits = fastpath.forward(model, batch).float()
    if not torch.isfinite(logits).all():
        raise InputError(f"model {model.name} produced NaN or infinite outputs")
    probs = probabilities(model, logits)
    return TypographicResult(
        written=written, box=text_box(spec),
        before=top_scores(model, probs[0], k), after=top_scores(model, probs[1], k),
        probs_before=probs[0].cpu().numpy(), probs_after=probs[1].cpu().numpy())
