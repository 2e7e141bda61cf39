"""The sliding-window sweep: one occluded copy per window position, many per forward pass.

Window ``(i, j)`` covers rows ``i·stride … i·stride + window`` and columns
likewise, at the model-input resolution.  Only windows that fit entirely
inside the image are used (those that would cross the border are omitted),
so there are ``(H − window) // stride + 1`` rows of positions.

Drawn as a map, window ``(i, j)``'s value fills the ``stride × stride`` tile centred
where the window was applied (centre ``i·stride + window/2``): neighbouring tiles
touch, and every map of a sweep (drop, most probable class, its probability) puts
each window at the same place (:meth:`OcclusionResult.grid_rect`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from workbench.core import fastpath
from workbench.core.batching import AdaptiveBatcher, model_key
from workbench.core.jobs import JobContext, PlainContext
from workbench.core.occlusion.fills import apply_fill
from workbench.core.params import param
from workbench.core.predict import probabilities
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

    def grid_rect(self) -> tuple[float, float, float, float]:
        """Where the ``(rows, cols)`` grid is drawn over the input, as ``(x, y, width,
        height)`` in pixels: cell ``(i, j)`` is the tile centred at the window's centre."""
        return grid_rect(self.target_prob.shape, self.window, self.stride)

    def pixel_map(self, values: np.ndarray | None = None) -> np.ndarray:
        """Per-position values as an ``(H, W)`` map at the input resolution: each window's
        tile (see :meth:`grid_rect`); NaN where no window was (or is yet) computed."""
        values = self.drop if values is None else values
        return tiles(values, self.window, self.stride, self.input_size)


def grid_shape(size: tuple[int, int], window: int, stride: int) -> tuple[int, int]:
    h, w = size
    if window > min(h, w):
        raise InputError(f"window {window} is larger than the {h}×{w} model input")
    return (h - window) // stride + 1, (w - window) // stride + 1


def grid_rect(shape, window: int, stride: int) -> tuple[float, float, float, float]:
    rows, cols = shape
    offset = window / 2 - stride / 2
    return (offset, offset, cols * stride, rows * stride)


def tiles(values: np.ndarray, window: int, stride: int, size) -> np.ndarray:
    """``(rows, cols)`` → ``(H, W)``: each value on its window's centred ``stride`` tile,
    NaN elsewhere (plain numpy: the GUI thread draws partial sweeps with it)."""
    values = np.asarray(values, dtype=np.float32)
    h, w = size
    x0, y0, width, height = grid_rect(values.shape, window, stride)
    rows = np.floor((np.arange(h) + 0.5 - y0) / stride).astype(np.int64)
    cols = np.floor((np.arange(w) + 0.5 - x0) / stride).astype(np.int64)
    inside_r = (rows >= 0) & (rows < values.shape[0])
    inside_c = (cols >= 0) & (cols < values.shape[1])
    out = np.full((h, w), np.nan, np.float32)
    grid = values[np.clip(rows, 0, values.shape[0] - 1)][:, np.clip(cols, 0, values.shape[1] - 1)]
    keep = inside_r[:, None] & inside_c[None, :]
    out[keep] = grid[keep]
    return out


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
    """Sweep a window over ``x`` (1, 3, H, W) — or over every frame of a clip (1, 3, T, H, W)
    at once; ``ctx.partial`` gets the result after each batch.

    On cancel the last partial result holds every finished position.
    """
    params = params or OcclusionParams()
    ctx = ctx or PlainContext()
    size = tuple(x.shape[-2:])
    rows, cols = grid_shape(size, params.window, params.stride)
    batcher = AdaptiveBatcher(model_key(model), auto_batch_size(model), params.batch_size)
    image = x[0].to(model.device)
    with torch.inference_mode():
        base = probabilities(model, fastpath.forward(model, image[None]))[0]
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
                occluded = apply_fill(image, masks, fill)
                probs = probabilities(model, fastpath.forward(model, occluded))
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
