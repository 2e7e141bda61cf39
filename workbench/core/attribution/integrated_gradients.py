"""Integrated Gradients: (x − baseline) × the mean gradient along the straight path.

Sundararajan, Taly & Yan, "Axiomatic Attribution for Deep Networks", ICML 2017,
https://arxiv.org/abs/1703.01365 — midpoint Riemann sum over ``steps`` points,
batched; the map is the absolute sum of the attributions over colours.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torchvision.transforms.v2 import functional as TF

from workbench.core.attribution.base import AttributionResult, Method, batches, register
from workbench.core.attribution.gradients import input_gradients, targets_for
from workbench.core.memory import fit_batch
from workbench.core.params import param

BASELINES = ("black", "grey", "white", "blur", "noise")


@dataclass
class IntegratedGradientsParams:
    steps: int = param(32, low=1, high=1024, help="points on the path from the baseline")
    baseline: str = param("black", choices=BASELINES, help="the input that means 'nothing'")
    batch_size: int = param(32, low=1, high=1024, help="path points per backward pass")


def make_baseline(image: torch.Tensor, kind: str) -> torch.Tensor:
    """A baseline in pixel space for one input ``(3, …)``."""
    if kind == "black":
        return torch.zeros_like(image)
    if kind == "grey":
        return torch.full_like(image, 0.5)
    if kind == "white":
        return torch.ones_like(image)
    if kind == "noise":
        generator = torch.Generator(device=image.device).manual_seed(0)
        return torch.rand(image.shape, generator=generator, device=image.device)
    frames = image if image.ndim == 3 else image.transpose(0, 1)  # (T, 3, H, W) for clips
    side = max(frames.shape[-2:])
    kernel = 2 * (side // 8) + 1
    blurred = TF.gaussian_blur(frames, [kernel, kernel], [side / 16.0] * 2)
    return blurred if image.ndim == 3 else blurred.transpose(0, 1)


class IntegratedGradients(Method):
    name = "integrated-gradients"
    title = "Integrated Gradients"
    paper = "https://arxiv.org/abs/1703.01365"
    params_cls = IntegratedGradientsParams

    def passes(self, model, layer, params) -> float:
        return 3.0 * params.steps
    needs_layer = False

    def compute(self, model, x, targets, layer, params, ctx):
        resolved, logits = targets_for(model, x, targets)
        attributions = []
        for i in range(x.shape[0]):
            attributions.append(self.attribute(model, x[i], int(resolved[i]), params, ctx,
                                               (i, x.shape[0])))
        attributions = torch.stack(attributions)
        maps = attributions.sum(dim=1).abs()
        return AttributionResult(maps, resolved.tolist(), self.name, None, logits,
                                 {"attributions": attributions})

    def attribute(self, model, image, target, params, ctx, position=(0, 1)):
        """Per-pixel, per-colour attributions ``(3, …)`` for one input."""
        baseline = make_baseline(image, params.baseline)
        delta = image - baseline
        alphas = (torch.arange(params.steps, device=image.device) + 0.5) / params.steps
        total = torch.zeros_like(image)
        done_before, count = position
        for start, stop in batches(params.steps, fit_batch(model, params.batch_size)):
            ctx.check()
            shape = (-1,) + (1,) * image.ndim
            path = baseline + alphas[start:stop].view(shape) * delta
            grads, _, _ = input_gradients(model, path, target)
            total += grads.sum(dim=0)
            ctx.progress((done_before + stop / params.steps) / count, "Integrated Gradients")
        return delta * total / params.steps


register(IntegratedGradients())
