"""A clip model over a video: clips sliding with a stride give a timeline of clip-level
predictions, and spatiotemporal maps ``(T, H, W)`` of each clip, played back as an overlay.

Results have the shape of the per-frame ones (:class:`FramePredictions`,
:class:`FrameMaps`), so the Video tab's timeline, aggregation, overlay and exports
treat both the same: a clip's prediction sits at its centre frame, a clip's map covers
each of its frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from workbench.core.jobs import JobContext, PlainContext
from workbench.core.memory import fit_batch
from workbench.core.predict import probabilities
from workbench.core.video.clips import (
    ClipSpec,
    check_clip_model,
    clip_centre,
    clip_indices,
    clip_starts,
    clips_to_input,
    read_clip,
)
from workbench.core.video.frames import FrameMaps, FramePredictions

CLIP_BATCH = 8


@dataclass
class ClipPredictions(FramePredictions):
    """Class probabilities of sliding clips; ``indices`` are the clips' centre frames."""

    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    spec: ClipSpec | None = None


def clip_predictions(model, path, spec: ClipSpec, start: int = 0, stop: int | None = None,
                     ctx: JobContext | None = None) -> ClipPredictions:
    """Probabilities of ``model`` on the clips sliding over ``start`` … ``stop``."""
    from workbench.io.video import VideoReader

    check_clip_model(model)
    ctx = ctx or PlainContext()
    with VideoReader(Path(path), cache_mb=64) as reader:
        count = reader.info.frame_count
        starts = clip_starts(spec, count, start, stop)
        centres = np.array([clip_centre(int(s), spec, count) for s in starts], np.int64)
        result = ClipPredictions(centres, np.array([reader.time_of(int(c)) for c in centres]),
                                 np.full((len(starts), model.num_classes), np.nan, np.float32),
                                 starts=starts, spec=spec)
        batch = fit_batch(model, CLIP_BATCH, "forward")
        for first in range(0, len(starts), batch):
            ctx.check()
            chunk = starts[first:first + batch]
            clips = np.stack([read_clip(reader, clip_indices(int(s), spec, count))
                              for s in chunk])
            with torch.inference_mode():
                logits = model.module(clips_to_input(model, clips)).float()
            result.probs[first:first + len(chunk)] = probabilities(model, logits).cpu().numpy()
            result.done += len(chunk)
            ctx.partial(result.snapshot())
            ctx.progress(result.done / len(starts), f"Clips {result.done}/{len(starts)}")
    return result


def clip_maps(model, path, spec: ClipSpec, method: str = "gradcam", layer: str | None = None,
              target: int | None = None, params=None, start: int = 0,
              stop: int | None = None, ctx: JobContext | None = None) -> FrameMaps:
    """The Attribution core's ``method`` on each clip (in batches of clips sized to the
    memory a backward pass needs), its ``(T, H, W)`` map spread over the clip's frames; a
    frame covered by overlapping clips keeps the later clip's map."""
    from workbench.core.attribution import attribute
    from workbench.io.video import VideoReader

    check_clip_model(model)
    ctx = ctx or PlainContext()
    quiet = JobContext(cancel_event=ctx.cancel_event)
    with VideoReader(Path(path), cache_mb=64) as reader:
        count = reader.info.frame_count
        starts = clip_starts(spec, count, start, stop)
        per_clip = [clip_indices(int(s), spec, count) for s in starts]
        indices = np.unique(np.concatenate(per_clip))
        h, w = model.input_size
        result = FrameMaps(indices, np.full((len(indices), h, w), np.nan, np.float32),
                           np.full(len(indices), -1, np.int64), method, layer)
        batch = fit_batch(model, CLIP_BATCH, "grad")
        for first in range(0, len(per_clip), batch):
            ctx.check()
            chunk = per_clip[first:first + batch]
            x = clips_to_input(model, np.stack([read_clip(reader, f) for f in chunk]))
            targets = None if target is None else [int(target)] * len(chunk)
            maps = attribute(model, x, method, layer=layer, targets=targets, params=params,
                             ctx=quiet)
            for frames, clip_map, clip_target in zip(chunk, maps.numpy(), maps.targets,
                                                     strict=True):
                rows = np.searchsorted(indices, frames)
                result.maps[rows] = clip_map
                result.targets[rows] = clip_target
            result.layer = maps.layer
            result.extras.update({k: v for k, v in maps.extras.items() if isinstance(v, str)})
            result.done = _filled_prefix(result.maps)
            ctx.partial(result.snapshot())
            finished = first + len(chunk)
            ctx.progress(finished / len(per_clip), f"Clip maps {finished}/{len(per_clip)}")
    return result


def _filled_prefix(maps: np.ndarray) -> int:
    """Rows filled from the first one on (what the overlay may show so far)."""
    missing = np.flatnonzero(~np.isfinite(maps[:, 0, 0]))
    return int(missing[0]) if len(missing) else len(maps)
