"""The Live page's job: the top classes of the newest frame (or clip) and, when asked, its
Grad-CAM — one forward pass serves both."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class LiveResult:
    """What one live job returns: the top classes and the map (or ``None``)."""

    top: list  # ClassScore, best first
    heat: np.ndarray | None
    layer: str | None = None


def live_job(model, frame, clip, cam: bool, topk: int, ctx) -> LiveResult:
    """Top-``topk`` classes of ``model`` on a uint8 ``frame`` (a clip model: on ``clip``,
    its frames), with the Grad-CAM of the top class when ``cam`` (one forward pass serves
    both)."""
    import torch

    from workbench.core import fastpath

    ctx.check()
    if clip is not None:
        from workbench.core.video.clips import clips_to_input

        x = clips_to_input(model, np.stack(clip)[None])
    else:
        from workbench.core.video.frames import frames_to_input

        x = frames_to_input(model, frame[None])
    heat = layer = None
    if cam:
        from workbench.core.attribution import attribute

        result = attribute(model, x, "gradcam", ctx=ctx)
        logits, layer = result.logits, result.layer
        maps = result.numpy()[0]
        heat = maps[-1] if maps.ndim == 3 else maps  # a clip: the map of its newest frame
    else:
        with torch.inference_mode():
            logits = fastpath.forward(model, x)
    from workbench.core.predict import logits_to_prediction

    return LiveResult(logits_to_prediction(model, logits, topk).top, heat, layer)


@dataclass
class LiveInput:
    """What one job runs on: the frame shown, and for a clip model its clip."""

    frame: np.ndarray
    clip: list | None = None


def clip_step(model, fps: float) -> int:
    """Every how many frames a clip model's clip takes one, for a source at ``fps``."""
    from workbench.core.video.clips import default_step

    return default_step(model, fps)
