"""The CAM family: activations (and gradients) at a layer → one map per input.

A subclass overrides only :meth:`CamMethod.combine`.  The forward pass runs
once with the layer's output turned into a graph leaf; the backward pass runs
from the target score down to that layer and no further, with frozen weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.core.attribution.base import (
    AttributionResult,
    Method,
    capture_layer,
    resolve_targets,
    spatial_size,
    target_scores,
    to_grid,
    upsample,
)
from workbench.core.params import param

CLIP_WEIGHTS = "clip"
PER_TIME_WEIGHTS = "per-time"
WEIGHTINGS = (CLIP_WEIGHTS, PER_TIME_WEIGHTS)
WEIGHTING_TEXT = {CLIP_WEIGHTS: "one weight per channel for the clip",
                  PER_TIME_WEIGHTS: "one weight per channel per time slice"}


@dataclass
class ChannelWeightParams:
    """How a CAM's channel weights are taken on a clip ``(N, C, T, H, W)``."""

    weighting: str = param(
        CLIP_WEIGHTS, choices=WEIGHTINGS,
        help="clips only: one weight per channel for the whole clip (as pytorch-grad-cam) "
             "or one per channel and time slice (as SlowFast's Grad-CAM)")


def spatial_dims(tensor: torch.Tensor) -> tuple[int, ...]:
    """The dimensions after ``(N, C)``: ``(2, 3)`` for images, ``(2, 3, 4)`` for clips."""
    return tuple(range(2, tensor.ndim))


def weight_dims(tensor: torch.Tensor, params) -> tuple[int, ...]:
    """The dimensions channel weights are pooled over: all positions, or on a clip with
    the per-time weighting only ``(H, W)``, giving one weight per channel and time step."""
    if tensor.ndim == 5 and getattr(params, "weighting", CLIP_WEIGHTS) == PER_TIME_WEIGHTS:
        return (3, 4)
    return spatial_dims(tensor)


def weighting_note(params, x: torch.Tensor) -> dict:
    """What the result says about its weighting (clips only)."""
    if x.ndim != 5 or not hasattr(params, "weighting"):
        return {}
    return {"weighting": params.weighting, "weighting_text": WEIGHTING_TEXT[params.weighting]}


class CamMethod(Method):
    """Base of the CAMs that need one forward pass and, optionally, one partial backward."""

    uses_gradients = True

    def combine(self, activations: torch.Tensor, gradients: torch.Tensor | None, params):
        """``(N, C, *S)`` activations and gradients → ``(N, *S)`` map at the layer."""
        raise NotImplementedError

    def forward_backward(self, model, x, targets, layer):
        """Activations at ``layer``, their gradients, logits and resolved targets."""
        with capture_layer(model, layer, with_grad=self.uses_gradients) as capture:
            with torch.set_grad_enabled(self.uses_gradients):
                logits = model.module(x)
            activation = capture.activation
        if activation is None:
            raise RuntimeError(f"layer {layer} was not called in the forward pass")
        targets = resolve_targets(logits, targets, logits.shape[1])
        gradients = None
        if self.uses_gradients:
            (gradients,) = torch.autograd.grad(target_scores(logits, targets).sum(), activation)
        return activation.detach(), gradients, logits.detach(), targets

    def compute(self, model, x, targets, layer, params, ctx) -> AttributionResult:
        activation, gradients, logits, targets = self.forward_backward(model, x, targets, layer)
        ctx.check()
        info = model.layer_info(layer)
        cam = self.combine(to_grid(activation, info), to_grid(gradients, info), params)
        maps = upsample(cam, spatial_size(x))
        return AttributionResult(maps, targets.tolist(), self.name, layer, logits,
                                 weighting_note(params, x))
