"""The sliding-window sweep: one occluded copy per window position, many per forward pass.

Window ``(i, j)`` covers rows ``i·stride … i·stride + window`` and columns
likewise, at the model-input resolution.  Only windows that fit entirely
inside the image are used (those that would cross the border are omitted),
so there are ``(H − window) // stride + 1`` rows of positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from workbench.core.batching import AdaptiveBatcher, model_key
from workbench.core.jobs import JobContext, PlainContext
from workbench.core.occlusion.fills import apply_fill
from workbench.core.params import param
from workbench.errors import InputError

CPU_MAX_BATCH = 64
GPU_MAX_BATCH = 512


@dataclass
class OcclusionParams:
    window: int = param(32, low=1, high=4096, help="side of the square window, in input pixels")
    stride: int = param(16, low=1, high=4096, help="step between windows, in input pixels")
    batch_size: int = param(0, low=0, high=4096,
                            help="occluded copies per forward pass (0: the fastest for this "
                                 "device, found while running)")


@dataclass
class OcclusionResult:
    """Per-position results; ``done`` positions are filled, the rest are NaN / -1."""

    target: int
    base_probs: np.ndarray  # (C,) on the unoccluded input
    target_prob: np.ndarray  # (rows, cols) probability of the target with the window hidden
    top_class: np.ndarray  # (rows, cols) most probable class, -1 where not computed yet
    top_prob: np.ndarray  # (rows, cols) probability of that class
    window: int
    stride: int
    input_size: tuple[int, int]
    done: int = 0
    extras: dict = field(default_factory=dict)

    def snapshot(self) -> OcclusionResult:
        """A copy safe to hand to another thread while the sweep goes on."""
        return replace(self, target_prob=self.target_prob.copy(),
                       top_class=self.top_class.copy(), top_prob=self.top_prob.copy())

    @property
    def total(self) -> int:
        return self.target_prob.size

    @property
    def drop(self) -> np.ndarray:
        """How much hiding each window lowers the target's probability."""
        return self.base_probs[self.target] - self.target_prob

    def pixel_map(self, values: np.ndarray | None = None) -> np.ndarray:
        """Per-position values spread over the input: each pixel averages the windows over it."""
        values = self.drop if values is None else values
        return spread(values, self.window, self.stride, self.input_size)


def grid_shape(size: tuple[int, int], window: int, stride: int) -> tuple[int, int]:
    h, w = size
    if window > min(h, w):
        raise InputError(f"window {window} is larger than the {h}×{w} model input")
    return (h - window) // stride + 1, (w - window) // stride + 1


def spread(values: np.ndarray, window: int, stride: int, size) -> np.ndarray:
    """``(rows, cols)`` → ``(H, W)``: mean of the windows covering each pixel (0 if none).

    Plain numpy (the GUI thread draws partial sweeps with it and must not queue behind
    the worker's torch threads): each window's value is an impulse at its top-left
    corner, and a box sum over ``window × window`` (from cumulative sums) adds up the
    windows over every pixel — a few array passes instead of a loop over windows.
    """
    values = np.asarray(values, dtype=np.float64)
    known = np.isfinite(values)
    rows, cols = np.nonzero(known)
    totals = np.zeros(tuple(size), np.float64)
    counts = np.zeros(tuple(size), np.float64)
    totals[rows * stride, cols * stride] = values[rows, cols]
    counts[rows * stride, cols * stride] = 1.0
    total, count = _box_sums(totals, window), _box_sums(counts, window)
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0.5)
    return mean.astype(np.float32)


def _box_sums(impulses: np.ndarray, window: int) -> np.ndarray:
    """Each pixel's sum of ``impulses`` in the ``window × window`` box ending at it."""
    cumulative = np.pad(impulses.cumsum(axis=0).cumsum(axis=1), ((window, 0), (window, 0)))
    w = window
    return cumulative[w:, w:] - cumulative[:-w, w:] - cumulative[w:, :-w] + cumulative[:-w, :-w]


def window_masks(positions, window, stride, size, device) -> torch.Tensor:
    """``(B, 1, H, W)`` masks, 1 inside each window."""
    masks = torch.zeros(len(positions), 1, *size, device=device)
    for k, (i, j) in enumerate(positions):
        masks[k, 0, i * stride : i * stride + window, j * stride : j * stride + window] = 1.0
    return masks


def auto_batch_size(model) -> int:
    """The largest batch that fits a quarter of free memory (capped per device)."""
    largest = max((np.prod(layer.output_shape) for layer in model.layers
                   if layer.output_shape), default=3 * np.prod(model.input_size))
    per_sample = 4 * 4 * float(largest)  # a few live activations of the largest layer
    if model.device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(model.device)
        return int(max(1, min(GPU_MAX_BATCH, free * 0.25 // per_sample)))
    return int(max(1, min(CPU_MAX_BATCH, (2 << 30) // per_sample)))


def occlusion_map(model, x: torch.Tensor, fill="grey", target: int | None = None,
                  params: OcclusionParams | None = None,
                  ctx: JobContext | None = None) -> OcclusionResult:
    """Sweep a window over ``x`` (1, 3, H, W); ``ctx.partial`` gets the result after each batch.

    On cancel the last partial result holds every finished position.
    """
    params = params or OcclusionParams()
    ctx = ctx or PlainContext()
    if model.kind == "video":
        raise InputError("the sliding-window sweep works on image models")
    size = tuple(x.shape[-2:])
    rows, cols = grid_shape(size, params.window, params.stride)
    batcher = AdaptiveBatcher(model_key(model), auto_batch_size(model), params.batch_size)
    image = x[0].to(model.device)
    with torch.inference_mode():
        base = torch.softmax(model.module(image[None]).float(), dim=1)[0]
    target = int(base.argmax()) if target is None else int(target)
    if not 0 <= target < base.numel():
        raise InputError(f"target class {target} is outside 0 … {base.numel() - 1}")
    result = OcclusionResult(target, base.cpu().numpy(), np.full((rows, cols), np.nan, np.float32),
                             np.full((rows, cols), -1, np.int64),
                             np.full((rows, cols), np.nan, np.float32), params.window,
                             params.stride, size)
    positions = [(i, j) for i in range(rows) for j in range(cols)]
    start = 0
    while start < len(positions):
        ctx.check()
        with batcher.timed() as batch:
            chunk = positions[start : start + batch]
            masks = window_masks(chunk, params.window, params.stride, size, image.device)
            with torch.inference_mode():
                probs = torch.softmax(model.module(apply_fill(image, masks, fill)).float(), 1)
            _store(result, chunk, probs)
        start += len(chunk)
        ctx.partial(result.snapshot())
        ctx.progress(result.done / len(positions), f"Occlusion {result.done}/{len(positions)}")
    return result


def _store(result: OcclusionResult, chunk, probs: torch.Tensor) -> None:
    top_prob, top_class = probs.max(dim=1)
    target_prob = probs[:, result.target].cpu().numpy()
    top_prob, top_class = top_prob.cpu().numpy(), top_class.cpu().numpy()
    for k, (i, j) in enumerate(chunk):
        result.target_prob[i, j] = target_prob[k]
        result.top_class[i, j] = top_class[k]
        result.top_prob[i, j] = top_prob[k]
    result.done += len(chunk)
