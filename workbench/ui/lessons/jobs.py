"""The lessons' own worker jobs (plain functions of their inputs and a job context): the
five motion models on the motion clip, and the shipped patch's transfer to the samples."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MOTION_MODELS = (("motion_frame", "per-frame CNN, averaged"),
                 ("motion_early", "early fusion (frames as channels)"),
                 ("motion_late", "late fusion (features in time order)"),
                 ("motion_3d", "3D convolutions (C3D)"),
                 ("motion_lstm", "CNN + LSTM"))


@dataclass
class MotionRow:
    name: str
    how: str
    top1: list  # the direction predicted for each clip
    accuracy: float  # clips whose predicted direction is the true one


def clip_directions(path, spec) -> list[str]:
    """The true direction of each clip of the motion lesson's clip (its centre frame's
    segment)."""
    from workbench.core.models.motion_data import SAMPLE_SEGMENTS, segment_starts
    from workbench.core.video.clips import clip_centre, clip_starts
    from workbench.io.video import VideoReader

    with VideoReader(path) as reader:
        count = reader.info.frame_count
    starts = segment_starts(SAMPLE_SEGMENTS)
    truth = []
    for first in clip_starts(spec, count):
        centre = clip_centre(int(first), spec, count)
        segment = max(i for i, s in enumerate(starts) if s <= centre)
        truth.append(SAMPLE_SEGMENTS[segment][0])
    return truth


def motion_comparison_job(path, device, ctx) -> list[MotionRow]:
    """Each motion model's direction on every clip of the motion lesson's video."""
    from workbench.core.models.registry import load_model
    from workbench.core.video.clip_runs import clip_predictions
    from workbench.core.video.clips import ClipSpec

    rows = []
    for k, (name, how) in enumerate(MOTION_MODELS):
        ctx.check()
        model = load_model(name, device)
        spec = ClipSpec(model.num_frames, 1, model.num_frames)
        truth = clip_directions(path, spec)
        result = clip_predictions(model, path, spec)
        top1 = [model.label(int(p.argmax())) for p in result.probs]
        accuracy = float(np.mean([a == b for a, b in zip(top1, truth, strict=True)]))
        rows.append(MotionRow(name, how, top1, accuracy))
        ctx.progress((k + 1) / len(MOTION_MODELS), f"Motion models: {name}")
    return rows


@dataclass
class TransferResult:
    names: list
    per_image: list  # fraction of placements with the target as top-1, per sample
    rate: float
    mean_prob: float
    placements: int


def patch_transfer_job(model, patch, mask, target, trials, ctx) -> TransferResult:
    """The patch pasted at ``trials`` random places on every sample photo: how often the
    model's top-1 becomes ``target``."""
    import torch

    from workbench.core.adversarial.train_toaster_patch import sample_inputs, transfer_rate

    ctx.check()
    names, x = sample_inputs(model)
    patch_t = torch.from_numpy(np.ascontiguousarray(patch)).permute(2, 0, 1)
    mask_t = torch.from_numpy(np.ascontiguousarray(mask))[None]
    measured = transfer_rate(model, x, patch_t, mask_t, target, trials=trials)
    return TransferResult(names, measured["per_image"], measured["rate"],
                          measured["mean_prob"], trials)


def shipped_patch_job(ctx):
    """The shipped toaster patch as ``(patch (s, s, 3), mask (s, s))`` and its record."""
    import json

    from workbench.core.adversarial.train_toaster_patch import load_shipped_patch, patch_paths

    patch, mask = load_shipped_patch()
    record = json.loads(patch_paths()[1].read_text())
    return (patch.permute(1, 2, 0).numpy().copy(), mask[0].numpy().copy()), record
