"""Score-CAM: each channel, upsampled and normalized, masks the input; the target's
probability on the masked input is that channel's weight (batched masks, no gradients).

Wang et al., "Score-CAM: Score-Weighted Visual Explanations for Convolutional
Neural Networks", CVPR-W 2020, https://arxiv.org/abs/1910.01279 — weights as
in the authors' implementation (softmax probability of the target class).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.core import fastpath
from workbench.core.attribution.base import (
    AttributionResult,
    batches,
    normalize_maps,
    register,
    spatial_size,
    to_grid,
    upsample,
)
from workbench.core.attribution.cam import CamMethod
from workbench.core.memory import fit_batch
from workbench.core.params import param
from workbench.core.predict import probabilities


@dataclass
class ScoreCamParams:
    batch_size: int = param(32, low=1, high=1024, help="masked inputs per forward pass")
    max_channels: int = param(0, low=0, high=100_000,
                              help="use only the most active channels (0: all)")


class ScoreCam(CamMethod):
    name = "scorecam"
    title = "Score-CAM"
    paper = "https://arxiv.org/abs/1910.01279"
    params_cls = ScoreCamParams
    uses_gradients = False

    def passes(self, model, layer, params) -> float:
        channels = model.layer_info(layer).channels if layer else 0
        if params.max_channels:
            channels = min(channels, params.max_channels)
        return 1.0 + channels

    def compute(self, model, x, targets, layer, params, ctx) -> AttributionResult:
        activation, _, logits, targets = self.forward_backward(model, x, targets, layer)
        grid = to_grid(activation, model.layer_info(layer))
        cams = []
        for i in range(x.shape[0]):
            ctx.check()
            cams.append(self._one(model, x[i : i + 1], grid[i], int(targets[i]), params, ctx,
                                  (i, x.shape[0])))
        maps = upsample(torch.stack(cams), spatial_size(x))
        return AttributionResult(maps, targets.tolist(), self.name, layer, logits)

    def _one(self, model, x, activation, target, params, ctx, position):
        channels = activation.shape[0]
        keep = torch.arange(channels, device=activation.device)
        if params.max_channels and params.max_channels < channels:
            strength = activation.flatten(1).mean(dim=1)
            keep = strength.topk(params.max_channels).indices
        masks = normalize_maps(upsample(activation[keep].float(), spatial_size(x)))
        weights = torch.empty(len(keep), device=x.device)
        done_before, total = position
        with torch.inference_mode():
            for start, stop in batches(len(keep), fit_batch(model, params.batch_size, "forward")):
                ctx.check()
                masked = x * masks[start:stop, None]
                probs = probabilities(model, fastpath.forward(model, masked))
                weights[start:stop] = probs[:, target]
                ctx.progress((done_before + stop / len(keep)) / total, "Score-CAM")
        cam = (weights.view(-1, *([1] * (activation.ndim - 1))) * activation[keep]).sum(0)
        return cam.relu()


register(ScoreCam())
