"""How an attack's effect grows with its budget: every epsilon in one batched call.

The image is copied once per epsilon and the attack runs on the stack with a
per-row budget, so ten epsilons cost about one attack on a batch of ten.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from workbench.core.adversarial.base import (
    AttackResult,
    check_pixels,
    forward,
    get_attack,
    gradients_allowed,
    resolve_goal,
)
from workbench.core.jobs import PlainContext
from workbench.errors import InputError


@dataclass
class SweepResult:
    """One row per epsilon (in the order given)."""

    eps: np.ndarray
    true_prob: np.ndarray
    target_prob: np.ndarray | None
    top1: np.ndarray
    top1_prob: np.ndarray
    success: np.ndarray
    adversarial: torch.Tensor
    true_class: int
    target: int | None
    result: AttackResult


@gradients_allowed()
def epsilon_sweep(model, x, method: str, eps_list, target=None, params=None, ctx=None,
                  labels=None) -> SweepResult:
    """Attack one image ``x`` ``(1, 3, H, W)`` at every budget in ``eps_list``.

    ``true_prob`` is the probability of the image's class before the attack (its
    label, or the top-1), ``target_prob`` that of the target of a targeted attack.
    Other arguments are those of :func:`~workbench.core.adversarial.attack`.
    """
    attack = get_attack(method)
    ctx = ctx or PlainContext()
    x = check_pixels(model, x)
    if x.shape[0] != 1:
        raise InputError(f"an epsilon sweep takes one image, not {x.shape[0]}")
    eps = torch.as_tensor(list(eps_list), dtype=torch.float32, device=x.device)
    if eps.numel() == 0 or not torch.isfinite(eps).all() or (eps < 0).any():
        raise InputError("epsilons must be a non-empty list of finite values ≥ 0")
    params = attack.make_params(params)
    logits = forward(model, x)
    goal = resolve_goal(logits, target, labels, model.num_classes, x).expand(eps.numel())
    stack = x.expand(eps.numel(), *x.shape[1:]).clone()
    result = attack.run(model, stack, goal, dataclasses.replace(params, eps=eps), ctx,
                        logits.expand(eps.numel(), -1))
    probs = result.probs_after
    true_class = int(goal.source[0])
    target_class = int(goal.classes[0]) if goal.targeted else None
    top_prob, top = probs.max(dim=1)
    return SweepResult(
        eps=eps.cpu().numpy(), true_prob=probs[:, true_class].cpu().numpy(),
        target_prob=None if target_class is None else probs[:, target_class].cpu().numpy(),
        top1=top.cpu().numpy(), top1_prob=top_prob.cpu().numpy(), success=result.success,
        adversarial=result.adversarial, true_class=true_class, target=target_class,
        result=result)
