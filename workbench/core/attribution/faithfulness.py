"""Deletion and insertion curves: how fast the target's probability falls when the
most-attributed pixels are removed first, and rises when they are added first.

Petsiuk, Das & Saenko, "RISE: Randomized Input Sampling for Explanation of
Black-box Models", BMVC 2018, https://arxiv.org/abs/1806.07421 (Section 4.1).
A faithful map has a low deletion AUC and a high insertion AUC.  Batched: all
steps of a curve run as a few large forward passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from workbench.core import fastpath
from workbench.core.attribution.base import batches
from workbench.core.attribution.integrated_gradients import make_baseline
from workbench.core.jobs import JobContext, PlainContext
from workbench.core.memory import fit_batch
from workbench.core.params import param
from workbench.core.predict import probabilities


@dataclass
class FaithfulnessParams:
    steps: int = param(32, low=2, high=512, help="points on each curve")
    deletion_fill: str = param("blur", choices=("black", "grey", "blur"),
                               help="what replaces removed pixels")
    insertion_start: str = param("blur", choices=("black", "grey", "blur"),
                                 help="the image pixels are inserted into")
    batch_size: int = param(33, low=1, high=1024, help="images per forward pass")


@dataclass
class FaithfulnessScore:
    deletion: np.ndarray  # target probability after removing fractions 0 … 1
    insertion: np.ndarray
    fractions: np.ndarray

    @property
    def deletion_auc(self) -> float:
        return float(np.trapezoid(self.deletion, self.fractions))

    @property
    def insertion_auc(self) -> float:
        return float(np.trapezoid(self.insertion, self.fractions))

    def as_dict(self) -> dict:
        return {"deletion_auc": self.deletion_auc, "insertion_auc": self.insertion_auc}


def _reveal_masks(attribution: torch.Tensor, steps: int) -> torch.Tensor:
    """``(steps + 1, *map)`` masks; mask k is 1 on the top ``k / steps`` of the map's pixels."""
    flat = attribution.flatten().float()
    order = flat.argsort(descending=True)
    ranks = torch.empty_like(order)
    ranks[order] = torch.arange(flat.numel(), device=flat.device)
    counts = torch.round(torch.linspace(0, flat.numel(), steps + 1, device=flat.device))
    masks = (ranks[None, :] < counts[:, None]).float()
    return masks.view(steps + 1, *attribution.shape)


def _curve(model, mixes, target, batch_size, ctx, done, total):
    probs = []
    with torch.inference_mode():
        for start, stop in batches(mixes.shape[0], fit_batch(model, batch_size, "forward")):
            ctx.check()
            out = probabilities(model, fastpath.forward(model, mixes[start:stop]))[:, target]
            probs.append(out)
            ctx.progress((done + stop / mixes.shape[0]) / total, "Faithfulness")
    return torch.cat(probs).cpu().numpy()


def faithfulness(model, x: torch.Tensor, attribution: torch.Tensor, target: int,
                 params: FaithfulnessParams | None = None,
                 ctx: JobContext | None = None) -> FaithfulnessScore:
    """Deletion and insertion curves of one map for one input ``(1, 3, …)``.

    ``attribution`` has the input's spatial shape (``(H, W)`` or ``(T, H, W)``).
    """
    params = params or FaithfulnessParams()
    ctx = ctx or PlainContext()
    image = x[0]
    masks = _reveal_masks(attribution.to(image.device), params.steps)[:, None]  # (S, 1, …)
    removed = make_baseline(image, params.deletion_fill)
    start_from = make_baseline(image, params.insertion_start)
    deletion = _curve(model, image * (1 - masks) + removed * masks, target, params.batch_size,
                      ctx, 0, 2)
    insertion = _curve(model, start_from * (1 - masks) + image * masks, target,
                       params.batch_size, ctx, 1, 2)
    fractions = np.linspace(0.0, 1.0, params.steps + 1)
    return FaithfulnessScore(deletion, insertion, fractions)
