"""Clip models (issue 14): spatiotemporal Grad-CAM throughput against its limit — one
forward pass of a batch of clips plus the backward pass from the target scores down to
the CAM layer and no further (frozen weights) — on a batch of clips, and end to end over
a video (decoding, clip assembly and resizing included) against the same limit on the
decoded clips.  Target ≥ 0.8×.  Random weights: the cost does not depend on them.
"""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.bench_attribution import cam_limit
from benchmarks.common import Row, interleaved


def batch_row(model, batch: int, rounds: int, weighting: str) -> Row:
    from workbench.core.attribution import attribute

    x = torch.rand(model.input_shape(batch), device=model.device)
    layer = model.default_cam_layer
    ours, limit = interleaved(
        lambda: attribute(model, x, "gradcam", params={"weighting": weighting}),
        lambda: cam_limit(model, x, layer), rounds, warmup=1)
    return Row(f"clip Grad-CAM ({weighting} weights), {model.name}, {batch} clips of "
               f"{model.num_frames} frames", ours, limit,
               f"throughput {limit / ours:.2f}× of the limit, target ≥ 0.8×")


def video_row(model, path, rounds: int) -> Row:
    from workbench.core.memory import fit_batch
    from workbench.core.video.clip_runs import CLIP_BATCH, clip_maps
    from workbench.core.video.clips import (
        clip_indices,
        clip_starts,
        clips_to_input,
        default_spec,
        read_clip,
    )
    from workbench.io.video import VideoReader

    with VideoReader(path) as reader:
        spec = default_spec(model, reader.info.fps)
        count = reader.info.frame_count
        clips = [read_clip(reader, clip_indices(int(s), spec, count))
                 for s in clip_starts(spec, count)]
    batch = fit_batch(model, CLIP_BATCH, "grad")
    inputs = [clips_to_input(model, np.stack(clips[i:i + batch]))
              for i in range(0, len(clips), batch)]
    layer = model.default_cam_layer
    ours, limit = interleaved(lambda: clip_maps(model, path, spec, "gradcam"),
                              lambda: [cam_limit(model, x, layer) for x in inputs], rounds,
                              warmup=1)
    return Row(f"clip Grad-CAM over bikes.mp4, {model.name} ({len(clips)} clips of "
               f"{spec.frames} frames, step {spec.step})", ours, limit,
               f"throughput {limit / ours:.2f}× of the limit on the decoded clips "
               "(decoding included in ours), target ≥ 0.8×")


def run(device: str = "cpu", rounds: int = 4):
    from workbench.core.models import load_model
    from workbench.io.samples import sample_path

    model = load_model("r3d_18:random", device=device)
    rows = [batch_row(model, 4, rounds, weighting) for weighting in ("clip", "per-time")]
    rows.append(video_row(model, sample_path("bikes"), max(2, rounds // 2)))
    return rows


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
