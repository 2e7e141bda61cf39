"""DeepFool: step to the nearest decision boundary of the linearized model, repeat.

Moosavi-Dezfooli, Fawzi & Frossard, "DeepFool: a simple and accurate method to
fool deep neural networks", CVPR 2016, https://arxiv.org/abs/1511.04599

Untargeted, the boundaries are those between the class to leave and the top
``candidates`` classes of the clean image; targeted, the one between the
current top-1 and the target.  A minimal-perturbation attack: ``eps`` only
caps the L2 norm when it is above 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.core.adversarial.base import (
    Attack,
    Goal,
    clip_pixels,
    per_image_norm,
    project_l2,
    register,
)
from workbench.core.params import param


@dataclass
class DeepFoolParams:
    steps: int = param(50, low=1, high=1000, help="most linearization steps")
    overshoot: float = param(0.02, low=0.0, high=1.0,
                             help="go past the boundary by this fraction of the step")
    candidates: int = param(10, low=2, high=1000,
                            help="classes whose boundaries are considered (the clean top ones)")
    eps: float = param(0.0, low=0.0, high=1000.0,
                       help="cap on the L2 norm of the perturbation in pixel units; 0: no cap")


class DeepFool(Attack):
    name = "deepfool"
    title = "DeepFool"
    paper = "https://arxiv.org/abs/1511.04599"
    norm = "l2"
    params_cls = DeepFoolParams
    capped = True

    def perturb(self, model, x, goal, params, ctx):
        eps = self.eps_of(params, x)
        total = torch.zeros_like(x)
        adv = x.clone()
        active = torch.arange(x.shape[0], device=x.device)
        candidates, run = None, 0
        for k in range(params.steps):
            ctx.check()
            leaf = adv[active].clone().requires_grad_(True)
            logits = model.module(leaf)
            if candidates is None:
                candidates = self.candidate_classes(logits.detach(), goal, params.candidates)
            sub = goal.subset(active)
            left = ~sub.reached(logits.detach())
            if not left.any():
                break
            step = self.boundary_step(leaf, logits, sub, candidates[active])
            active, step = active[left], step[left]
            total.index_add_(0, active, step)
            moved = x[active] + (1 + params.overshoot) * total[active]
            adv = adv.index_copy(0, active, clip_pixels(project_l2(moved, x[active],
                                                                   eps[active])))
            run = k + 1
            ctx.progress(run / params.steps, f"{self.title}: step {run}")
        return adv, run

    @staticmethod
    def candidate_classes(logits, goal: Goal, count: int) -> torch.Tensor:
        """``(N, K)`` classes to compare with: the target, or the clean top ones but the label."""
        if goal.targeted:
            return goal.classes[:, None]
        order = logits.argsort(dim=1, descending=True)[:, : count + 1]
        keep = order != goal.classes[:, None]
        return torch.stack([row[mask][: count - 1] for row, mask in zip(order, keep,
                                                                          strict=True)])

    @staticmethod
    def boundary_step(leaf, logits, goal: Goal, candidates) -> torch.Tensor:
        """The smallest step to any candidate's linearized boundary, for each image."""
        ref = logits.detach().argmax(dim=1) if goal.targeted else goal.classes
        ref_score = logits.gather(1, ref[:, None])[:, 0]
        best_dist = torch.full_like(ref_score, float("inf")).detach()
        best_step = torch.zeros_like(leaf)
        for j in range(candidates.shape[1]):
            diff = logits.gather(1, candidates[:, j : j + 1])[:, 0] - ref_score
            (w,) = torch.autograd.grad(diff.sum(), leaf, retain_graph=True)
            norm = per_image_norm(w).clamp_min(1e-12)
            dist = diff.detach().abs() / norm.flatten()
            closer = dist < best_dist
            best_dist = torch.where(closer, dist, best_dist)
            step = (dist + 1e-4).view_as(norm) * w / norm
            best_step = torch.where(closer.view_as(norm), step, best_step)
        return best_step


register(DeepFool())
