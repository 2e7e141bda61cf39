"""Temporal occlusion: which moments of a clip matter to the prediction.

Occlusion sensitivity (Zeiler & Fergus, "Visualizing and Understanding Convolutional
Networks", ECCV 2014, https://arxiv.org/abs/1311.2901, Section 4.2) with the window slid
over time instead of space: ``window`` consecutive frames are hidden, and the drop of the
target class's probability, ``base − occluded``, says how much the model relied on them.
Hidden frames become the clip's mean frame (``"mean"``), the frame just before the window
held still (``"freeze"``; the first frame when the window starts at 0), or mid-grey
(``"grey"``, 0.5).  Only windows that fit inside the clip are used (as in the spatial sweep,
:mod:`workbench.core.occlusion.sliding`), so window ``p`` hides frames ``p … p + window − 1``
for ``p = 0, stride, 2·stride, … ≤ T − window``.

A clip model (kind ``"video"``) sees every occluded clip as one ``(1, 3, T, h, w)`` input,
run in batches.  An image model predicts a clip by averaging its per-frame softmax
probabilities (late fusion: Karpathy et al., "Large-scale Video Classification with
Convolutional Neural Networks", CVPR 2014, https://cs.stanford.edu/people/karpathy/deepvideo/);
hiding a window only swaps some terms of that mean, so each distinct frame and the fill
frame go through the model once and every window's mean follows from those.

:func:`spatiotemporal_occlusion` hides a ``window × patch × patch`` box instead and gives a
``(P_t, P_h, P_w)`` cube of drops (clip models).  Fills are applied at the model input
resolution; the centre crop and antialiased resize are linear, so hiding before or after
them gives the same input.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from workbench.core.batching import AdaptiveBatcher, model_key
from workbench.core.jobs import JobContext, PlainContext
from workbench.core.memory import fit_batch
from workbench.core.occlusion.sliding import CPU_MAX_BATCH, GPU_MAX_BATCH, grid_shape
from workbench.core.predict import probabilities
from workbench.core.preprocess import fit_to
from workbench.errors import InputError

FILLS = ("mean", "freeze", "grey")
GREY = 0.5
CONVERT_CHUNK = 8  # frames resized to the model input at a time


@dataclass
class TemporalOcclusionResult:
    """One value per window position; windows not ``done`` yet are NaN."""

    positions: np.ndarray  # (P,) first frame (in the clip) of each window
    drops: np.ndarray  # (P,) base_prob − occluded_probs
    occluded_probs: np.ndarray  # (P,) target probability with the window hidden
    base_prob: float
    target: int
    label: str
    frame_count: int  # T, frames in the clip
    window: int
    stride: int
    fill: str
    done: int = 0
    extras: dict = field(default_factory=dict)

    def snapshot(self) -> TemporalOcclusionResult:
        """A copy safe to hand to another thread while the sweep goes on."""
        return replace(self, drops=self.drops.copy(), occluded_probs=self.occluded_probs.copy(),
                       extras=dict(self.extras))

    @property
    def total(self) -> int:
        return len(self.positions)

    @property
    def per_frame(self) -> np.ndarray:
        """``(T,)`` importance of each frame: the mean drop of the finished windows that
        cover it (NaN where none does yet)."""
        return per_frame_importance(self.positions, self.drops, self.window, self.frame_count)


@dataclass
class SpatiotemporalOcclusionResult:
    """A ``(P_t, P_h, P_w)`` cube: box ``(k, i, j)`` hides frames ``positions[k] …`` and
    pixels ``i·patch_stride …``, ``j·patch_stride …`` (``patch`` on a side); NaN: not done."""

    positions: np.ndarray  # (P_t,) first frame of each box
    drops: np.ndarray  # (P_t, P_h, P_w)
    occluded_probs: np.ndarray  # (P_t, P_h, P_w)
    base_prob: float
    target: int
    label: str
    frame_count: int
    window: int
    stride: int
    patch: int
    patch_stride: int
    fill: str
    input_size: tuple[int, int]
    done: int = 0
    extras: dict = field(default_factory=dict)

    def snapshot(self) -> SpatiotemporalOcclusionResult:
        return replace(self, drops=self.drops.copy(), occluded_probs=self.occluded_probs.copy(),
                       extras=dict(self.extras))

    @property
    def total(self) -> int:
        return self.drops.size


def window_positions(frame_count: int, window: int, stride: int) -> np.ndarray:
    """First frames of the windows that fit in a clip of ``frame_count`` frames."""
    return np.arange(0, frame_count - window + 1, stride, dtype=np.int64)


def per_frame_importance(positions, drops, window: int, frame_count: int) -> np.ndarray:
    """Mean of the finite ``drops`` of the windows covering each frame (NaN if none)."""
    frames = np.arange(frame_count)
    positions = np.asarray(positions)
    cover = (frames >= positions[:, None]) & (frames < positions[:, None] + window)
    valid = cover & np.isfinite(drops)[:, None]
    sums = np.where(valid, np.nan_to_num(drops)[:, None], 0.0).sum(axis=0)
    counts = valid.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan).astype(np.float32)


def check_params(window: int, stride: int, fill: str, frame_count: int | None = None) -> None:
    """Raise :class:`InputError` for parameters no sweep can use."""
    if fill not in FILLS:
        raise InputError(f"unknown fill '{fill}': use one of {', '.join(FILLS)}")
    if int(stride) < 1:
        raise InputError(f"the stride must be at least 1 frame, not {stride}")
    if int(window) < 1:
        raise InputError(f"the window must hide at least 1 frame, not {window}")
    if frame_count is not None and window > frame_count:
        raise InputError(f"a window of {window} frames is longer than the {frame_count}-frame "
                         "clip")


def clip_pixels(clip) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 or float frames → float32 pixels in [0, 1], checked."""
    clip = np.asarray(clip)
    if clip.size == 0:
        raise InputError("the clip is empty: it has no frames")
    if clip.ndim != 4 or clip.shape[-1] != 3:
        raise InputError(f"expected clip frames of shape (T, H, W, 3), got {clip.shape}")
    if clip.dtype == np.uint8:
        return clip.astype(np.float32) / np.float32(255.0)
    if not np.issubdtype(clip.dtype, np.floating):
        raise InputError(f"clip frames must be uint8 or float pixels, not {clip.dtype}")
    if not np.isfinite(clip).all():
        raise InputError("the clip has NaN or infinite pixels")
    if clip.min() < -1e-3 or clip.max() > 1 + 1e-3:
        raise InputError(f"float clip frames must be pixels in [0, 1], got {clip.min():g} … "
                         f"{clip.max():g} (pass uint8 frames, or divide by 255)")
    return clip.astype(np.float32)


def model_frames(model, pixels: np.ndarray) -> torch.Tensor:
    """``(T, H, W, 3)`` float pixels → ``(T, 3, h, w)`` at the model input, on its device."""
    chunks = []
    for start in range(0, len(pixels), CONVERT_CHUNK):
        part = torch.from_numpy(np.ascontiguousarray(pixels[start:start + CONVERT_CHUNK]))
        chunks.append(fit_to(part.to(model.device).permute(0, 3, 1, 2), model.input_size))
    return torch.cat(chunks)


def fill_frame(frames: torch.Tensor, fill: str) -> torch.Tensor | None:
    """The one ``(3, h, w)`` frame a ``"mean"`` or ``"grey"`` fill puts in; ``None`` for
    ``"freeze"`` (its frame depends on the window)."""
    if fill == "mean":
        return frames.mean(dim=0)
    if fill == "grey":
        return torch.full_like(frames[0], GREY)
    return None


def occluded_clips(frames: torch.Tensor, boxes, fill: str,
                   constant: torch.Tensor | None = None) -> torch.Tensor:
    """``(B, 3, T, h, w)`` copies of the clip ``frames`` ``(T, 3, h, w)``, copy ``b`` with box
    ``boxes[b] = (t0, t1, y0, y1, x0, x1)`` hidden by ``fill``."""
    t, _, h, w = frames.shape
    masks = torch.zeros(len(boxes), 1, t, h, w, dtype=torch.bool, device=frames.device)
    for k, (t0, t1, y0, y1, x0, x1) in enumerate(boxes):
        masks[k, 0, t0:t1, y0:y1, x0:x1] = True
    if fill == "freeze":
        before = torch.tensor([max(int(b[0]) - 1, 0) for b in boxes], device=frames.device)
        fills = frames[before].unsqueeze(2)  # (B, 3, 1, h, w)
    else:
        constant = fill_frame(frames, fill) if constant is None else constant
        fills = constant[None, :, None]
    return torch.where(masks, fills, frames.permute(1, 0, 2, 3)[None])


def _softmax(model, x: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return probabilities(model, model.module(x))


def _check_target(target, base: np.ndarray) -> int:
    target = int(base.argmax()) if target is None else int(target)
    if not 0 <= target < base.size:
        raise InputError(f"target class {target} is outside 0 … {base.size - 1}")
    return target


def batch_cap(model) -> int:
    """The largest batch of inputs an inference pass fits in memory (capped per device)."""
    cap = GPU_MAX_BATCH if torch.device(str(model.device)).type == "cuda" else CPU_MAX_BATCH
    return fit_batch(model, cap, "forward")


def _batcher(model, batch_size: int | None) -> AdaptiveBatcher:
    if batch_size is not None and batch_size < 0:
        raise InputError(f"the batch size must be at least 1 (0: automatic), not {batch_size}")
    return AdaptiveBatcher(model_key(model), batch_cap(model), int(batch_size or 0))


def temporal_occlusion(model, clip, target: int | None = None, window: int = 2,
                       stride: int = 1, fill: str = "mean", batch_size: int | None = None,
                       ctx: JobContext | None = None) -> TemporalOcclusionResult:
    """Slide a ``window``-frame occlusion over ``clip`` ``(T, H, W, 3)`` and measure the
    drop of ``target``'s probability (default: the clip's top-1) at each position.

    ``ctx.partial`` gets the result after each batch (unfinished windows NaN), so a
    cancelled sweep keeps every finished window.  ``batch_size`` ``None`` / 0: sized to
    the device while running.
    """
    ctx = ctx or PlainContext()
    check_params(window, stride, fill)
    pixels = clip_pixels(clip)
    check_params(window, stride, fill, len(pixels))
    positions = window_positions(len(pixels), window, stride)
    if model.kind == "video":
        return _clip_model_sweep(model, pixels, positions, target, window, stride, fill,
                                 _batcher(model, batch_size), ctx)
    return _image_model_sweep(model, np.asarray(clip), pixels, positions, target, window,
                              stride, fill, _batcher(model, batch_size), ctx)


def _new_result(model, positions, base: np.ndarray, target, frame_count, window, stride,
                fill, mode: str) -> TemporalOcclusionResult:
    target = _check_target(target, base)
    empty = np.full(len(positions), np.nan, np.float32)
    return TemporalOcclusionResult(positions, empty, empty.copy(), float(base[target]), target,
                                   model.label(target), frame_count, window, stride, fill,
                                   extras={"mode": mode, "forwards": 1})


def _clip_model_sweep(model, pixels, positions, target, window, stride, fill, batcher,
                      ctx) -> TemporalOcclusionResult:
    frames = model_frames(model, pixels)
    base = _softmax(model, frames.permute(1, 0, 2, 3)[None])[0].cpu().numpy()
    result = _new_result(model, positions, base, target, len(pixels), window, stride, fill,
                         "clip")
    h, w = frames.shape[-2:]
    boxes = [(int(p), int(p) + window, 0, h, 0, w) for p in positions]
    _sweep_boxes(model, frames, boxes, fill, result, batcher, ctx, "Temporal occlusion")
    return result


def _sweep_boxes(model, frames, boxes, fill, result, batcher, ctx, title: str) -> None:
    """Run the occluded clips of ``boxes`` in batches into ``result``'s flat arrays."""
    constant = fill_frame(frames, fill)
    flat_probs, flat_drops = result.occluded_probs.reshape(-1), result.drops.reshape(-1)
    start = 0
    while start < len(boxes):
        ctx.check()
        with batcher.timed() as size:
            chunk = boxes[start:start + size]
            probs = _softmax(model, occluded_clips(frames, chunk, fill, constant))
            probs = probs[:, result.target].cpu().numpy()
        rows = slice(start, start + len(chunk))
        flat_probs[rows] = probs
        flat_drops[rows] = np.float32(result.base_prob) - probs
        start += len(chunk)
        result.done = start
        result.extras["forwards"] += len(chunk)
        ctx.partial(result.snapshot())
        ctx.progress(start / len(boxes), f"{title} {start}/{len(boxes)}")


def distinct_frames(clip: np.ndarray) -> tuple[list[int], np.ndarray]:
    """``(firsts, inverse)``: the first index of each distinct frame of ``clip``, and for
    every frame the number of its distinct frame (repeated frames are computed once)."""
    seen: dict[bytes, int] = {}
    firsts, inverse = [], []
    for index, frame in enumerate(clip):
        key = hashlib.blake2b(np.ascontiguousarray(frame).tobytes(), digest_size=16).digest()
        if key not in seen:
            seen[key] = len(firsts)
            firsts.append(index)
        inverse.append(seen[key])
    return firsts, np.asarray(inverse, np.int64)


def _frame_probs(model, inputs: torch.Tensor, batcher, ctx) -> np.ndarray:
    """Softmax of every ``(3, h, w)`` frame of ``inputs``, in batches, float64."""
    rows, start = [], 0
    while start < len(inputs):
        ctx.check()
        with batcher.timed() as size:
            rows.append(_softmax(model, inputs[start:start + size]).double().cpu().numpy())
        start += len(rows[-1])
        ctx.progress(start / len(inputs), f"Frames {start}/{len(inputs)}")
    return np.concatenate(rows)


def _image_model_sweep(model, raw, pixels, positions, target, window, stride, fill, batcher,
                       ctx) -> TemporalOcclusionResult:
    """Per-frame averaging: window ``p``'s clip probability is the mean with its frames'
    terms swapped for the fill frame's, from one forward per distinct frame."""
    frames = model_frames(model, pixels)
    firsts, inverse = distinct_frames(raw)
    inputs = frames[firsts]
    constant = fill_frame(frames, fill)
    if constant is not None:
        inputs = torch.cat([inputs, constant[None]])
    probs = _frame_probs(model, inputs, batcher, ctx)
    per_frame = probs[inverse]  # (T, C)
    result = _new_result(model, positions, per_frame.mean(axis=0), target, len(pixels), window,
                         stride, fill, "per-frame mean")
    result.extras["forwards"] = len(inputs)
    occluded = window_means(per_frame[:, result.target], positions, window,
                            probs[-1, result.target] if constant is not None else None)
    result.occluded_probs[:] = occluded
    result.drops[:] = result.base_prob - occluded
    result.done = len(positions)
    ctx.partial(result.snapshot())
    return result


def window_means(frame_probs: np.ndarray, positions, window: int,
                 fill_prob: float | None) -> np.ndarray:
    """The mean of ``frame_probs`` ``(T,)`` with each window's terms replaced by the fill
    frame's probability (``None``: ``"freeze"``, the frame before the window's)."""
    total = len(frame_probs)
    sums = np.concatenate([[0.0], np.cumsum(frame_probs)])
    positions = np.asarray(positions)
    inside = sums[positions + window] - sums[positions]
    if fill_prob is None:
        fill_prob = frame_probs[np.maximum(positions - 1, 0)]
    return (sums[-1] - inside + window * np.asarray(fill_prob)) / total


def spatiotemporal_occlusion(model, clip, target: int | None = None, window: int = 2,
                             patch: int = 32, stride: int = 1, fill: str = "mean",
                             patch_stride: int | None = None, batch_size: int | None = None,
                             ctx: JobContext | None = None) -> SpatiotemporalOcclusionResult:
    """Hide a ``window``-frame × ``patch``-pixel box (at the model input resolution), slid
    every ``stride`` frames and ``patch_stride`` pixels (default ``patch``): a cube of
    drops of ``target``'s probability, for a clip model."""
    ctx = ctx or PlainContext()
    if model.kind != "video":
        raise InputError(f"{model.name} is an image model; spatiotemporal occlusion needs a "
                         "clip model")
    patch_stride = patch if patch_stride is None else patch_stride
    check_params(window, stride, fill)
    if patch < 1 or patch_stride < 1:
        raise InputError(f"the patch and its stride must be at least 1 pixel, not {patch} and "
                         f"{patch_stride}")
    pixels = clip_pixels(clip)
    check_params(window, stride, fill, len(pixels))
    frames = model_frames(model, pixels)
    size = tuple(frames.shape[-2:])
    rows, cols = grid_shape(size, patch, patch_stride)
    positions = window_positions(len(pixels), window, stride)
    base = _softmax(model, frames.permute(1, 0, 2, 3)[None])[0].cpu().numpy()
    target = _check_target(target, base)
    empty = np.full((len(positions), rows, cols), np.nan, np.float32)
    result = SpatiotemporalOcclusionResult(
        positions, empty, empty.copy(), float(base[target]), target, model.label(target),
        len(pixels), window, stride, patch, patch_stride, fill, size,
        extras={"mode": "clip", "forwards": 1})
    boxes = [(int(p), int(p) + window, i * patch_stride, i * patch_stride + patch,
              j * patch_stride, j * patch_stride + patch)
             for p in positions for i in range(rows) for j in range(cols)]
    _sweep_boxes(model, frames, boxes, fill, result, _batcher(model, batch_size), ctx,
                 "Spatiotemporal occlusion")
    return result
