"""Per-frame predictions and maps of an image model on a video, batched, with the frames
decoded ahead on their own thread, filled in progressively through ``ctx.partial``.

Predictions are cached per (model, weights, video file, frame): running again, or on an
overlapping set of frames, computes only the frames not seen yet.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from workbench.core import fastpath
from workbench.core.jobs import JobContext, PlainContext
from workbench.core.predict import probabilities
from workbench.core.preprocess import fit_to
from workbench.errors import InputError

DEFAULT_PER_SECOND = 2.0
CACHE_ROWS = 20_000  # cached prediction rows (float16), across videos and models
_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()


@dataclass
class FramePredictions:
    """Class probabilities of the sampled frames; ``done`` of them are filled in."""

    indices: np.ndarray  # (T,) frame numbers, ascending
    times: np.ndarray  # (T,) seconds
    probs: np.ndarray  # (T, C) float32, NaN rows not computed yet
    done: int = 0
    from_cache: int = 0

    def snapshot(self) -> FramePredictions:
        return replace(self, probs=self.probs.copy())

    @property
    def complete(self) -> np.ndarray:
        return np.isfinite(self.probs[:, 0])


@dataclass
class FrameMaps:
    """Attribution maps of the sampled frames at the model input resolution."""

    indices: np.ndarray
    maps: np.ndarray  # (T, H, W) float32, NaN where not computed yet
    targets: np.ndarray  # (T,) class each map explains (−1: not yet)
    method: str
    layer: str | None
    done: int = 0
    extras: dict = field(default_factory=dict)

    def snapshot(self) -> FrameMaps:
        return replace(self, maps=self.maps.copy(), targets=self.targets.copy())


def sampled_frames(info, every: int | None = None, per_second: float | None = None,
                   start: int = 0, stop: int | None = None) -> np.ndarray:
    """Frame numbers to analyse: every ``every``-th, or about ``per_second`` a second
    (default 2), within ``start`` … ``stop`` (exclusive)."""
    stop = info.frame_count if stop is None else min(int(stop), info.frame_count)
    start = max(0, int(start))
    if start >= stop:
        raise InputError(f"the frame range {start}:{stop} is empty (the video has "
                         f"{info.frame_count} frames)")
    if every is None:
        every = max(1, round(info.fps / (per_second or DEFAULT_PER_SECOND)))
    if every < 1:
        raise InputError(f"every must be at least 1 frame, not {every}")
    return np.arange(start, stop, int(every))


def frames_to_input(model, frames: np.ndarray) -> torch.Tensor:
    """``(B, H, W, 3)`` uint8 frames → the ``(B, 3, h, w)`` pixels the model sees (the same
    centre crop and antialiased resize as every image input)."""
    if model.kind == "video":
        raise InputError(f"{model.name} is a clip model; per-frame analysis needs an image "
                         "model")
    batch = torch.from_numpy(np.ascontiguousarray(frames)).to(model.device)
    return fit_to(batch.permute(0, 3, 1, 2).float().div_(255.0), model.input_size)


def _cache_key(model, path: Path, index: int):
    stat = path.stat()
    return (model.name, model.source, str(path.resolve()), stat.st_mtime_ns, stat.st_size,
            int(index))


def frame_predictions(model, path, indices, batch_size: int = 16,
                      ctx: JobContext | None = None) -> FramePredictions:
    """Probabilities of ``model`` on frames ``indices`` of the video at ``path``."""
    from workbench.io.video import VideoReader

    ctx = ctx or PlainContext()
    path = Path(path)
    indices = np.asarray(sorted({int(i) for i in indices}), np.int64)
    with VideoReader(path, cache_mb=1) as reader:
        times = np.array([reader.time_of(int(i)) for i in indices])
        result = FramePredictions(indices, times,
                                  np.full((len(indices), model.num_classes), np.nan,
                                          np.float32))
        keys = [_cache_key(model, path, i) for i in indices]
        todo = [row for row, key in enumerate(keys) if not _fill_from_cache(result, row, key)]
        result.from_cache = result.done
        if result.done:
            ctx.partial(result.snapshot())
        with reader.batches(indices[todo], batch_size) as batches:
            rows = iter(todo)
            for chunk, frames in batches:
                ctx.check()
                with torch.inference_mode():
                    logits = fastpath.forward(model, frames_to_input(model, frames))
                    probs = probabilities(model, logits).cpu().numpy()
                for values in probs:
                    row = next(rows)
                    result.probs[row] = values
                    _remember(keys[row], values)
                result.done += len(chunk)
                ctx.partial(result.snapshot())
                ctx.progress(result.done / len(indices),
                             f"Frames {result.done}/{len(indices)}")
    return result


def _fill_from_cache(result: FramePredictions, row: int, key) -> bool:
    with _cache_lock:
        values = _cache.get(key)
        if values is None:
            return False
        _cache.move_to_end(key)
    result.probs[row] = values.astype(np.float32)
    result.done += 1
    return True


def _remember(key, values: np.ndarray) -> None:
    with _cache_lock:
        _cache[key] = values.astype(np.float16)
        while len(_cache) > CACHE_ROWS:
            _cache.popitem(last=False)


def frame_maps(model, path, indices, method: str = "gradcam", layer: str | None = None,
               target: int | None = None, params=None, batch_size: int = 8,
               ctx: JobContext | None = None) -> FrameMaps:
    """The Attribution core's ``method`` on each sampled frame (``target`` ``None``: each
    frame's own top-1), in batches."""
    from workbench.core.attribution import attribute
    from workbench.io.video import VideoReader

    ctx = ctx or PlainContext()
    indices = np.asarray(sorted({int(i) for i in indices}), np.int64)
    h, w = model.input_size
    result = FrameMaps(indices, np.full((len(indices), h, w), np.nan, np.float32),
                       np.full(len(indices), -1, np.int64), method, layer)
    quiet = JobContext(cancel_event=ctx.cancel_event)
    with VideoReader(path, cache_mb=1) as reader, reader.batches(indices, batch_size) as batches:
        for chunk, frames in batches:
            ctx.check()
            x = frames_to_input(model, frames)
            targets = None if target is None else [int(target)] * len(chunk)
            maps = attribute(model, x, method, layer=layer, targets=targets, params=params,
                             ctx=quiet)
            rows = slice(result.done, result.done + len(chunk))
            result.maps[rows] = maps.numpy()
            result.targets[rows] = maps.targets
            result.layer = maps.layer
            result.done += len(chunk)
            ctx.partial(result.snapshot())
            ctx.progress(result.done / len(indices), f"Maps {result.done}/{len(indices)}")
    return result
