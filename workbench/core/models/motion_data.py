"""Synthetic moving-digit clips for the motion lesson: which way does the digit move?

One of scikit-learn's 8×8 digits (upscaled bilinearly, white strokes on a dark square
canvas) moves in a straight line at a constant speed ``left``, ``right``, ``up`` or
``down`` for :data:`NUM_FRAMES` frames.  All geometry is in fractions of the canvas side,
so a clip rendered at 128 px and downsized shows the same picture as one rendered at 32.

**A single frame says nothing about the direction.**  The digit's centre in frame ``t``
is ``midpoint + direction · speed · (t − (T − 1) / 2)``.  Pooled over the frames, the
offset along the motion, ``± speed · (t − 3.5)``, is symmetric, so its sign (left or
right) does not show.  The perpendicular coordinate gets an independent offset
``speed′ · (t′ − 3.5)`` drawn the same way (``speed′`` from the speed range, ``t′`` a
uniform frame number), and both midpoint coordinates are uniform on the same interval.
So in a frame picked at random from a clip, ``x`` and ``y`` are independent and
identically distributed, the same for all four directions (:func:`frame_centres` lets a
test check it).  A model that looks at the frames one at a time with the same weights
(it cannot tell which frame it sees) and averages is at chance; motion needs time.
(The frames taken together do lie on a horizontal or a vertical line; an average of
per-frame scores found nothing to use in that: the trained ``motion_frame`` sits at 25 %.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from workbench.core.models.digits_data import digits_split

DIRECTIONS = ("left", "right", "up", "down")
UNIT = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "up": (0.0, -1.0), "down": (0.0, 1.0)}
NUM_FRAMES = 8
CANVAS = 32  # the models' input side; any size renders the same picture
DIGIT_SIZE = (0.3, 0.5)  # side of the digit's 8×8 box, fraction of the canvas side
SPEED = (0.025, 0.05)  # fraction of the canvas side per frame
INK = (0.7, 1.0)  # stroke brightness
BACKGROUND = (0.0, 0.1)  # canvas brightness
NOISE = 0.03  # standard deviation of the per-pixel Gaussian noise
SPLITS = ("train", "held_out")


@dataclass(frozen=True)
class ClipGeometry:
    """Where and how one clip's digit is drawn (fractions of the canvas side).

    ``centre`` is the ``(x, y)`` of the digit's centre halfway through the clip (the
    trajectory's midpoint plus the perpendicular offset); ``speed`` per frame.
    """

    size: float
    centre: tuple[float, float]
    speed: float
    ink: float = 1.0
    background: float = 0.05


def settings() -> dict:
    """The generator's settings, for the weights' metadata and the README."""
    return {"canvas": CANVAS, "frames": NUM_FRAMES, "digit_size": list(DIGIT_SIZE),
            "speed_per_frame": list(SPEED), "ink": list(INK), "background": list(BACKGROUND),
            "noise_std": NOISE, "units": "fractions of the canvas side",
            "directions": list(DIRECTIONS)}


def offsets(frames: int = NUM_FRAMES) -> np.ndarray:
    """``t − (T − 1) / 2`` for each frame: the motion's steps from the midpoint."""
    return np.arange(frames, dtype=np.float64) - (frames - 1) / 2


def sample_geometry(rng: np.random.Generator, direction: str,
                    frames: int = NUM_FRAMES) -> ClipGeometry:
    """A random clip geometry whose single frames do not depend on ``direction``."""
    size = rng.uniform(*DIGIT_SIZE)
    reach = 0.5 - size / 2 - SPEED[1] * offsets(frames)[-1]  # stays inside the canvas
    midpoint = 0.5 + rng.uniform(-reach, reach, size=2)
    sideways = rng.uniform(*SPEED) * rng.choice(offsets(frames))
    ux, uy = UNIT[direction]
    centre = (midpoint[0] + abs(uy) * sideways, midpoint[1] + abs(ux) * sideways)
    return ClipGeometry(size=float(size), centre=(float(centre[0]), float(centre[1])),
                        speed=float(rng.uniform(*SPEED)), ink=float(rng.uniform(*INK)),
                        background=float(rng.uniform(*BACKGROUND)))


def frame_centres(geometry: ClipGeometry, direction: str,
                  frames: int = NUM_FRAMES) -> np.ndarray:
    """``(T, 2)`` digit centres ``(x, y)`` of a clip, frame by frame."""
    step = geometry.speed * np.asarray(UNIT[direction])
    return np.asarray(geometry.centre) + offsets(frames)[:, None] * step


def draw_digits(images8, centres, sizes, canvas: int) -> torch.Tensor:
    """Bilinearly upscaled digits on a black canvas.

    ``images8`` ``(N, 8, 8)`` in [0, 1], ``centres`` ``(N, T, 2)`` and ``sizes`` ``(N,)``
    in canvas fractions → ``(N, T, canvas, canvas)`` float32 ink in [0, 1].
    """
    images = torch.as_tensor(np.asarray(images8, np.float32))
    centres = torch.as_tensor(np.asarray(centres), dtype=torch.float32)
    sizes = torch.as_tensor(np.asarray(sizes), dtype=torch.float32)
    n, t = centres.shape[:2]
    scale = (1.0 / sizes).repeat_interleave(t)
    theta = torch.zeros(n * t, 2, 3)
    theta[:, 0, 0] = scale
    theta[:, 1, 1] = scale
    theta[:, :, 2] = (1.0 - 2.0 * centres.reshape(-1, 2)) * scale[:, None]
    grid = F.affine_grid(theta, [n * t, 1, canvas, canvas], align_corners=False)
    source = images.repeat_interleave(t, dim=0).unsqueeze(1)
    drawn = F.grid_sample(source, grid, mode="bilinear", padding_mode="zeros",
                          align_corners=False)
    return drawn.view(n, t, canvas, canvas)


def finish(ink: torch.Tensor, levels, backgrounds, noise: float,
           rng: np.random.Generator | None) -> np.ndarray:
    """Strokes at brightness ``levels`` over ``backgrounds``, plus Gaussian noise, in [0, 1]."""
    shape = (-1,) + (1,) * (ink.ndim - 1)
    levels = torch.as_tensor(np.asarray(levels, np.float32)).view(shape)
    backgrounds = torch.as_tensor(np.asarray(backgrounds, np.float32)).view(shape)
    clip = backgrounds + (levels - backgrounds).clamp(min=0) * ink
    if noise > 0 and rng is not None:
        clip = clip + noise * torch.from_numpy(
            rng.standard_normal(clip.shape, dtype=np.float32))
    return clip.clamp_(0.0, 1.0).numpy()


def render_clip(digit_image8, direction: str, geometry: ClipGeometry, size: int = CANVAS,
                frames: int = NUM_FRAMES, rng: np.random.Generator | None = None,
                noise: float = NOISE) -> np.ndarray:
    """One clip, ``(T, size, size)`` float32 in [0, 1]; noise only when ``rng`` is given."""
    centres = frame_centres(geometry, direction, frames)[None]
    ink = draw_digits(np.asarray(digit_image8)[None], centres, [geometry.size], size)
    return finish(ink, [geometry.ink], [geometry.background], noise, rng)[0]


def split_digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    """``(images8, labels)`` of the fixed train or held-out digits."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    train_x, held_x, train_y, held_y = digits_split()
    return (train_x, train_y) if split == "train" else (held_x, held_y)


def make_dataset(n: int, split: str = "train", seed: int = 0, size: int = CANVAS,
                 frames: int = NUM_FRAMES, pool=None):
    """``n`` random clips, deterministic for ``seed``.

    Returns ``clips`` ``(N, T, size, size)`` float32 in [0, 1], ``directions`` ``(N,)``
    (indices into :data:`DIRECTIONS`, balanced) and ``digits`` ``(N,)``.  Digits come
    from ``split`` (the held-out digits are never trained on); ``pool`` overrides them
    with an ``(images8, labels)`` pair.
    """
    images8, labels = pool if pool is not None else split_digits(split)
    rng = np.random.default_rng(seed)
    directions = rng.permutation(np.arange(n) % len(DIRECTIONS))
    picks = rng.integers(0, len(images8), size=n)
    shapes = [sample_geometry(rng, DIRECTIONS[d], frames) for d in directions]
    centres = np.stack([frame_centres(g, DIRECTIONS[d], frames)
                        for g, d in zip(shapes, directions, strict=True)])
    ink = draw_digits(images8[picks], centres, [g.size for g in shapes], size)
    clips = finish(ink, [g.ink for g in shapes], [g.background for g in shapes], NOISE, rng)
    return clips, directions.astype(np.int64), labels[picks].astype(np.int64)


# ---------------------------------------------------------------------- sample video
SAMPLE_SEGMENTS = (("right", 16), ("down", 16), ("left", 16), ("up", 16))
SAMPLE_DIGIT = 3
SAMPLE_SPEED = 0.03
SAMPLE_SIZE = 0.4
SAMPLE_FPS = 8  # the clip models' frame rate: one training frame per video frame


def path_centres(segments, speed: float = SAMPLE_SPEED) -> np.ndarray:
    """``(frames, 2)`` centres of a digit that moves through ``segments`` one after another
    (each ``(direction, frames)``), the path centred in the canvas."""
    steps = [np.asarray(UNIT[d]) * speed for d, count in segments for _ in range(count)]
    centres = np.cumsum(np.vstack([np.zeros((1, 2)), steps[1:]]), axis=0)
    return centres - (centres.min(0) + centres.max(0)) / 2 + 0.5


def segment_starts(segments) -> list[int]:
    """The first frame of each segment."""
    return np.concatenate([[0], np.cumsum([count for _, count in segments])[:-1]]).tolist()


def sample_frames(size: int = 128, segments=SAMPLE_SEGMENTS, digit: int = SAMPLE_DIGIT,
                  seed: int = 0) -> tuple[np.ndarray, int]:
    """``(frames, H, W, 3)`` uint8 RGB frames of a held-out ``digit`` moving through
    ``segments``, and the digit shown."""
    images8, labels = split_digits("held_out")
    image8 = images8[np.flatnonzero(labels == digit)[0]]
    centres = path_centres(segments)
    ink = draw_digits(image8[None], centres[None], [SAMPLE_SIZE], size)
    grey = finish(ink, [0.9], [0.05], NOISE / 2, np.random.default_rng(seed))[0]
    rgb = np.repeat((grey * 255 + 0.5).astype(np.uint8)[..., None], 3, axis=-1)
    return rgb, int(digit)


def sample_video(path, size: int = 128, fps: float = SAMPLE_FPS, segments=SAMPLE_SEGMENTS,
                 digit: int = SAMPLE_DIGIT, seed: int = 0) -> list[tuple[int, str, int]]:
    """Write an MP4 (atomically) of a digit moving through ``segments`` (each
    ``(direction, frames)``); return the ``(first frame, direction, digit)`` segments."""
    from workbench.io.video_write import write_video

    frames, shown = sample_frames(size, segments, digit, seed)
    write_video(path, list(frames), fps)
    return [(start, direction, shown) for start, (direction, _) in
            zip(segment_starts(segments), segments, strict=True)]
