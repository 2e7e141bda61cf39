"""SmoothGrad: saliency averaged over noisy copies of the input (batched).

Smilkov et al., "SmoothGrad: removing noise by adding noise", 2017,
https://arxiv.org/abs/1706.03825
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.core.attribution.base import AttributionResult, Method, batches, register
from workbench.core.attribution.gradients import input_gradients, magnitude, targets_for
from workbench.core.memory import fit_batch
from workbench.core.params import param


@dataclass
class SmoothGradParams:
    samples: int = param(25, low=1, high=500, help="noisy copies averaged")
    noise: float = param(0.15, low=0.0, high=1.0, step=0.05,
                         help="noise standard deviation, as a fraction of the input's range")
    batch_size: int = param(32, low=1, high=1024, help="noisy copies per backward pass")
    seed: int = param(0, low=0, high=2**31 - 1, help="noise seed")


class SmoothGrad(Method):
    name = "smoothgrad"
    title = "SmoothGrad"
    paper = "https://arxiv.org/abs/1706.03825"
    params_cls = SmoothGradParams

    def passes(self, model, layer, params) -> float:
        return 3.0 * params.samples
    needs_layer = False

    def compute(self, model, x, targets, layer, params, ctx):
        resolved, logits = targets_for(model, x, targets)
        generator = torch.Generator(device=x.device).manual_seed(params.seed)
        maps = []
        for i in range(x.shape[0]):
            maps.append(self._one(model, x[i], int(resolved[i]), params, generator, ctx,
                                  (i, x.shape[0])))
        return AttributionResult(torch.stack(maps), resolved.tolist(), self.name, None, logits)

    def _one(self, model, image, target, params, generator, ctx, position):
        sigma = params.noise * float(image.max() - image.min() or 1.0)
        total = torch.zeros(image.shape[1:], device=image.device)
        done_before, count = position
        for start, stop in batches(params.samples, fit_batch(model, params.batch_size)):
            ctx.check()
            noise = torch.randn((stop - start, *image.shape), generator=generator,
                                device=image.device)
            grads, _, _ = input_gradients(model, image + sigma * noise, target)
            total += magnitude(grads).sum(dim=0)
            ctx.progress((done_before + stop / params.samples) / count, "SmoothGrad")
        return total / params.samples


register(SmoothGrad())
