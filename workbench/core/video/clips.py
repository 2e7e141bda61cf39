"""Clips for clip models (kind "video"): T frames sampled at a frame step, and clips
sliding over a long video with a stride.

A clip starting at frame ``s`` with ``T`` frames and step ``k`` holds frames
``s, s + k, …, s + (T − 1)·k``; past the video's end the last frame repeats (so a
short video still fills a clip).  Every frame goes through the same centre crop and
antialiased resize as an image input (:func:`workbench.core.preprocess.fit_to`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from workbench.core.preprocess import fit_to
from workbench.errors import InputError


@dataclass(frozen=True)
class ClipSpec:
    """How clips are cut: ``frames`` per clip, every ``step``-th frame, a new clip every
    ``stride`` frames of the video."""

    frames: int
    step: int = 1
    stride: int = 0  # 0: clips follow each other without overlap (frames × step)

    def __post_init__(self):
        if self.frames < 1:
            raise InputError(f"a clip needs at least one frame, not {self.frames}")
        if self.step < 1:
            raise InputError(f"the frame step must be at least 1, not {self.step}")
        if self.stride < 0:
            raise InputError(f"the clip stride must be at least 1 frame, not {self.stride}")

    @property
    def span(self) -> int:
        """Frames of the video one clip covers."""
        return (self.frames - 1) * self.step + 1

    @property
    def hop(self) -> int:
        return self.stride or self.frames * self.step


def default_step(model, fps: float) -> int:
    """The frame step that gives the model the frame rate it was trained at (its
    weights' ``frame_rate``; every frame when unknown)."""
    rate = model.extras.get("frame_rate") if model.extras else None
    if not rate or fps <= 0:
        return 1
    return max(1, round(fps / rate))


def default_spec(model, fps: float, stride: int = 0) -> ClipSpec:
    """The clip a clip model takes by default: its frame count, at its frame rate."""
    check_clip_model(model)
    return ClipSpec(model.num_frames, default_step(model, fps), stride)


def check_clip_model(model) -> None:
    if model.kind != "video":
        raise InputError(f"{model.name} is an image model; clips need a clip model "
                         "(use per-frame analysis for an image model)")


def clip_indices(start: int, spec: ClipSpec, frame_count: int) -> np.ndarray:
    """The frame numbers of the clip starting at ``start`` (the last frame repeats past
    the end)."""
    if frame_count < 1:
        raise InputError("the video has no frames")
    if not 0 <= start < frame_count:
        raise InputError(f"clip start {start} is outside the video's 0 … {frame_count - 1}")
    indices = start + spec.step * np.arange(spec.frames)
    return np.minimum(indices, frame_count - 1).astype(np.int64)


def clip_starts(spec: ClipSpec, frame_count: int, start: int = 0,
                stop: int | None = None) -> np.ndarray:
    """First frames of the clips sliding over ``start`` … ``stop``: every ``hop`` frames,
    and at least one clip."""
    stop = frame_count if stop is None else min(int(stop), frame_count)
    start = max(0, int(start))
    if start >= stop:
        raise InputError(f"the frame range {start}:{stop} is empty (the video has "
                         f"{frame_count} frames)")
    last = max(start, stop - spec.span)
    starts = np.arange(start, last + 1, spec.hop, dtype=np.int64)
    return starts if len(starts) else np.array([start], np.int64)


def clip_centre(start: int, spec: ClipSpec, frame_count: int) -> int:
    """The frame a clip's prediction is drawn at on a timeline."""
    return int(min(frame_count - 1, start + spec.span // 2))


def read_clip(reader, indices) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 frames ``indices`` from an open ``VideoReader`` (each
    distinct frame decoded once)."""
    frames = {int(i): reader.frame_uint8(int(i)) for i in dict.fromkeys(map(int, indices))}
    return np.stack([frames[int(i)] for i in indices])


def clips_to_input(model, clips: np.ndarray) -> torch.Tensor:
    """``(B, T, H, W, 3)`` uint8 (or float in [0, 1]) clips → the ``(B, 3, T, h, w)``
    pixels a clip model sees."""
    clips = np.asarray(clips)
    if clips.ndim == 4:
        clips = clips[None]
    if clips.ndim != 5 or clips.shape[-1] != 3:
        raise InputError(f"expected clips of shape (B, T, H, W, 3), got {clips.shape}")
    b, t = clips.shape[:2]
    x = torch.from_numpy(np.ascontiguousarray(clips)).to(model.device)
    x = x.flatten(0, 1).permute(0, 3, 1, 2)
    x = x.float().div_(255.0) if clips.dtype == np.uint8 else x.float()
    x = fit_to(x, model.input_size)
    return x.view(b, t, 3, *x.shape[2:]).permute(0, 2, 1, 3, 4).contiguous()


def clip_frames_shown(x: torch.Tensor) -> np.ndarray:
    """A ``(1, 3, T, h, w)`` model input back to ``(T, h, w, 3)`` float frames (what the
    model saw, for overlays)."""
    return x.detach()[0].permute(1, 2, 3, 0).float().cpu().numpy()
