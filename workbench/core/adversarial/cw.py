"""Carlini-Wagner L2: minimize ‖δ‖² + c·f(x + δ) with Adam in tanh space.

Carlini & Wagner, "Towards Evaluating the Robustness of Neural Networks",
IEEE S&P 2017, https://arxiv.org/abs/1608.04644

``f`` is the logit margin of the class to leave (or of the best other class
over the target), floored at −κ.  An optional binary search adjusts ``c`` per
image.  Returns the smallest successful perturbation seen, else the last
iterate.  A minimal-perturbation attack: ``eps`` only caps the L2 norm when
it is above 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.core.adversarial.base import (
    Attack,
    Goal,
    clip_pixels,
    project_l2,
    register,
)
from workbench.core.params import param


@dataclass
class CWParams:
    c: float = param(1.0, low=0.0, high=1e6,
                     help="weight of the misclassification term (the first value when searching)")
    kappa: float = param(0.0, low=0.0, high=1000.0, help="confidence margin in logits")
    steps: int = param(100, low=1, high=100000, help="Adam steps for each value of c")
    lr: float = param(0.01, low=1e-5, high=1.0, help="Adam learning rate (tanh space)")
    search_steps: int = param(1, low=1, high=20, help="binary-search rounds over c (1: none)")
    early_stop: bool = param(True, help="end a round when the loss stops falling")
    eps: float = param(0.0, low=0.0, high=1000.0,
                       help="cap on the L2 norm of the perturbation in pixel units; 0: no cap")


def margin(logits: torch.Tensor, goal: Goal) -> torch.Tensor:
    """Per image: how far the model still is from the goal, in logits (≤ 0: reached)."""
    own = logits.gather(1, goal.classes[:, None])[:, 0]
    mask = torch.zeros_like(logits, dtype=torch.bool).scatter_(1, goal.classes[:, None], True)
    other = logits.masked_fill(mask, float("-inf")).amax(dim=1)
    return other - own if goal.targeted else own - other


class _Best:
    """The smallest successful perturbation per image so far."""

    def __init__(self, x):
        self.adv = x.clone()
        self.l2 = torch.full((x.shape[0],), float("inf"), device=x.device)

    def update(self, adv, l2, ok):
        better = ok & (l2 < self.l2)
        self.l2 = torch.where(better, l2, self.l2)
        self.adv = torch.where(better.view(-1, *([1] * (adv.ndim - 1))), adv, self.adv)

    @property
    def found(self):
        return torch.isfinite(self.l2)


class CarliniWagner(Attack):
    name = "cw"
    title = "Carlini-Wagner L2"
    paper = "https://arxiv.org/abs/1608.04644"
    norm = "l2"
    params_cls = CWParams
    capped = True

    def perturb(self, model, x, goal, params, ctx):
        n = x.shape[0]
        w0 = torch.atanh((x * 2 - 1).clamp(-1 + 1e-6, 1 - 1e-6))
        c = torch.full((n,), float(params.c), device=x.device)
        low, high = torch.zeros_like(c), torch.full_like(c, float("inf"))
        best, run, last = _Best(x), 0, x
        for _ in range(params.search_steps):
            before = best.l2.clone()
            last, steps = self.optimize(model, x, w0, goal, c, params, ctx, best, run)
            run += steps
            ok = best.l2 < before
            high = torch.where(ok, torch.minimum(high, c), high)
            low = torch.where(ok, low, torch.maximum(low, c))
            c = torch.where(torch.isfinite(high), (low + high) / 2, c * 10)
        adv = torch.where(best.found.view(-1, *([1] * (x.ndim - 1))), best.adv, last)
        return clip_pixels(project_l2(adv, x, self.eps_of(params, x))), run

    def optimize(self, model, x, w0, goal, c, params, ctx, best: _Best, done: int):
        """One round of Adam at fixed ``c``; returns the last iterate and the steps run."""
        w = w0.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([w], lr=params.lr)
        total = params.steps * params.search_steps
        patience, previous = max(1, params.steps // 10), float("inf")
        adv = x
        for k in range(params.steps):
            ctx.check()
            adv = (torch.tanh(w) + 1) / 2
            logits = model.module(adv)
            l2sq = (adv - x).flatten(1).pow(2).sum(dim=1)
            gap = margin(logits, goal)
            loss = (l2sq + c * gap.clamp(min=-params.kappa)).sum()
            (w.grad,) = torch.autograd.grad(loss, w)
            optimizer.step()
            best.update(adv.detach(), l2sq.detach().sqrt(),
                        goal.reached(logits.detach()) & (gap.detach() <= -params.kappa))
            ctx.progress((done + k + 1) / total, f"{self.title}: step {done + k + 1}")
            if params.early_stop and k % patience == patience - 1:
                if float(loss.detach()) > previous * 0.9999:
                    return adv.detach(), k + 1
                previous = float(loss.detach())
        return adv.detach(), params.steps


register(CarliniWagner())
