"""Synthetic scenes of scikit-learn digits for the built-in detector and segmenter.

A scene is a dark canvas with a few 8×8 digits upscaled to 24–64 px, white
strokes, placed at random and allowed to overlap a little.  Each scene carries
its ground truth: one tight box per digit (around that digit's own ink, also
where a later digit covers part of it) and a class map (0 = background, d + 1
for digit d; where digits overlap, the later-drawn one wins).

``SCENE_SIZE`` is 128×128: large enough for four or five 64 px digits with
room to spare, small enough that a stride-4 detector has a 32×32 output grid
and both models train in minutes on two CPU cores.

Styles: ``"default"`` (bilinear upscaling, crisp white-on-black), ``"foreign"``
(a fixed, different rendering: blocky nearest-neighbour upscaling, thicker
blurred strokes, dimmer ink on a grey, noisy background, slight rotation — used
only for evaluation) and ``"augment"`` (every rendering knob drawn at random per
scene and per digit; the training distribution).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy import ndimage

SCENE_SIZE = (128, 128)
DIGIT_SIZE_RANGE = (24, 64)
COUNT_RANGE = (2, 5)
MAX_OVERLAP = 0.4  # at most this fraction of the smaller of two boxes may be covered
INK_THRESHOLD = 0.3  # a rendered digit's pixel is ink (box, mask) above this

_RESAMPLE = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}


@dataclass
class Scene:
    """One scene: ``image`` (H, W, 3) float32 RGB in [0, 1], ``boxes`` (K, 4) xyxy pixels,
    ``labels`` (K,) int64 digits 0–9, ``mask`` (H, W) int64 class map (0 = background)."""

    image: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    mask: np.ndarray


@dataclass
class Style:
    """How digits are rendered; ranges are ``(low, high)`` drawn uniformly per digit."""

    interpolation: tuple[str, ...] = ("bilinear",)
    blur: tuple[float, float] = (0.0, 0.0)  # Gaussian sigma in units of the digit's 8×8 cell
    thickness: tuple[int, ...] = (0,)  # >0 dilate, <0 erode (grey max/min pool, 3×3 per step)
    rotation: tuple[float, float] = (0.0, 0.0)  # degrees
    ink: tuple[float, float] = (1.0, 1.0)
    background: tuple[float, float] = (0.0, 0.0)
    contrast: tuple[float, float] = (1.0, 1.0)
    noise: tuple[float, float] = (0.0, 0.0)  # per-pixel Gaussian sigma
    extra: dict = field(default_factory=dict)


STYLES = {
    "default": Style(),
    "foreign": Style(interpolation=("nearest",), blur=(0.2, 0.2), thickness=(1,),
                     rotation=(-8.0, 8.0), ink=(0.8, 0.8), background=(0.12, 0.12),
                     contrast=(0.9, 0.9), noise=(0.04, 0.04)),
    "augment": Style(interpolation=("nearest", "bilinear", "bicubic"), blur=(0.0, 0.3),
                     thickness=(-1, 0, 0, 0, 1, 1), rotation=(-12.0, 12.0), ink=(0.55, 1.0),
                     background=(0.0, 0.22), contrast=(0.7, 1.2), noise=(0.0, 0.07)),
}


@lru_cache(maxsize=1)
def _split_digits():
    from workbench.core.models.digits_data import digits_split

    train_x, held_x, train_y, held_y = digits_split()
    return {"train": (train_x, train_y), "held_out": (held_x, held_y)}


def split_digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    """The ``(N, 8, 8)`` digits and labels of ``"train"`` or ``"held_out"``."""
    return _split_digits()[split]


def _uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(*bounds)) if bounds[0] != bounds[1] else float(bounds[0])


def render_digit(image8: np.ndarray, side: int, style: Style, rng) -> np.ndarray:
    """One 8×8 digit as a ``(h, w)`` float32 ink patch in [0, 1] about ``side`` px tall."""
    mode = str(rng.choice(style.interpolation))
    patch = Image.fromarray(image8.astype(np.float32), mode="F")
    patch = np.asarray(patch.resize((side, side), _RESAMPLE[mode]), dtype=np.float32)
    steps = int(rng.choice(style.thickness))
    for _ in range(abs(steps) * max(1, round(side / 40))):
        pool = ndimage.grey_dilation if steps > 0 else ndimage.grey_erosion
        patch = pool(patch, size=(3, 3))
    sigma = _uniform(rng, style.blur) * side / 8
    if sigma > 0.05:
        patch = ndimage.gaussian_filter(patch, sigma)
    angle = _uniform(rng, style.rotation)
    if abs(angle) > 0.1:
        rotated = Image.fromarray(patch, mode="F").rotate(angle, Image.BILINEAR, expand=True)
        patch = np.asarray(rotated, dtype=np.float32)
    return np.clip(patch, 0.0, 1.0)


def box_coverage(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection of ``box`` with each of ``others`` over the smaller of the two areas."""
    lt = np.maximum(box[:2], others[:, :2])
    rb = np.minimum(box[2:], others[:, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
    areas = np.prod(others[:, 2:] - others[:, :2], axis=1)
    return inter / np.maximum(np.minimum(areas, np.prod(box[2:] - box[:2])), 1e-9)


def ink_box(ink: np.ndarray) -> np.ndarray | None:
    """Tight xyxy box (pixel edges) around ``ink`` (a boolean map), or None if it is empty."""
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    if rows.size == 0:
        return None
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float32)


def make_scene(rng: np.random.Generator, size: tuple[int, int] = SCENE_SIZE, digits=None,
               count: tuple[int, int] = COUNT_RANGE,
               digit_size: tuple[int, int] = DIGIT_SIZE_RANGE,
               max_overlap: float = MAX_OVERLAP, style: str | Style = "default") -> Scene:
    """One random scene.  ``digits`` is ``(images8, labels)`` to draw from (default: train split).

    Digits lie wholly inside the canvas; a new digit whose box covers more than
    ``max_overlap`` of an earlier box (or is covered that much by one) is placed again
    (up to 20 tries, then skipped).
    """
    style = STYLES[style] if isinstance(style, str) else style
    images8, digit_labels = digits if digits is not None else split_digits("train")
    height, width = size
    canvas = np.zeros(size, np.float32)
    mask = np.zeros(size, np.int64)
    boxes, labels = [], []
    for _ in range(int(rng.integers(count[0], count[1] + 1))):
        index = int(rng.integers(len(images8)))
        side = int(rng.integers(digit_size[0], digit_size[1] + 1))
        patch = render_digit(images8[index], side, style, rng)
        patch *= _uniform(rng, style.ink)
        ph, pw = patch.shape
        if ph > height or pw > width:
            continue
        ink = patch > INK_THRESHOLD * patch.max() if patch.max() > 0 else patch > 1
        local = ink_box(ink)
        if local is None:
            continue
        for _try in range(20):
            y, x = int(rng.integers(0, height - ph + 1)), int(rng.integers(0, width - pw + 1))
            box = local + np.array([x, y, x, y], np.float32)
            if not boxes or box_coverage(box, np.stack(boxes)).max() <= max_overlap:
                break
        else:
            continue
        window = (slice(y, y + ph), slice(x, x + pw))
        canvas[window] = np.maximum(canvas[window], patch)
        mask[window][ink] = int(digit_labels[index]) + 1
        boxes.append(box)
        labels.append(int(digit_labels[index]))
    image = _photometric(canvas, style, rng)
    return Scene(image=np.repeat(image[..., None], 3, axis=2),
                 boxes=np.stack(boxes) if boxes else np.zeros((0, 4), np.float32),
                 labels=np.asarray(labels, np.int64), mask=mask)


def _photometric(canvas: np.ndarray, style: Style, rng) -> np.ndarray:
    """Background level, contrast and noise on the ink canvas → grey image in [0, 1]."""
    background = _uniform(rng, style.background)
    image = background + (1.0 - background) * canvas
    image = 0.5 + (image - 0.5) * _uniform(rng, style.contrast)
    sigma = _uniform(rng, style.noise)
    if sigma > 0:
        image = image + rng.normal(0.0, sigma, image.shape)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def make_scenes(n: int, seed: int, split: str = "train", style: str = "default",
                **kwargs) -> list[Scene]:
    """``n`` reproducible scenes from the ``split`` digits ("train" or "held_out")."""
    rng = np.random.default_rng(seed)
    digits = split_digits(split)
    return [make_scene(rng, digits=digits, style=style, **kwargs) for _ in range(n)]


def save_sample_scene(path, seed: int = 0, style: str = "default") -> Scene:
    """Write one held-out scene as an 8-bit PNG at ``path`` and return it."""
    scene = make_scenes(1, seed, split="held_out", style=style)[0]
    Image.fromarray((scene.image * 255).round().astype(np.uint8)).save(path)
    return scene
