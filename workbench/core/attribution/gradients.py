"""Input gradients with frozen weights: the shared step of the gradient-map methods.

The input is the only tensor that requires grad, so backward computes nothing
for the weights.
"""

from __future__ import annotations

import torch

from workbench.core.attribution.base import resolve_targets, target_scores


def input_gradients(model, x: torch.Tensor, targets=None):
    """``(d score / d x, logits, targets)`` for a batch; ``targets`` default to top-1."""
    leaf = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = model.module(leaf)
        targets = resolve_targets(logits, targets, logits.shape[1])
        (grads,) = torch.autograd.grad(target_scores(logits, targets).sum(), leaf)
    return grads, logits.detach(), targets


def magnitude(grads: torch.Tensor) -> torch.Tensor:
    """``(N, 3, …)`` gradients → ``(N, …)`` map: the largest absolute value over colours."""
    return grads.abs().amax(dim=1)


def targets_for(model, x: torch.Tensor, targets=None):
    """Resolved targets, and the logits when a forward pass was needed to find them."""
    if targets is None:
        with torch.inference_mode():
            logits = model.module(x)
        return resolve_targets(logits, None, logits.shape[1]), logits
    dummy = torch.empty(x.shape[0], model.num_classes, device=x.device)
    return resolve_targets(dummy, targets, model.num_classes), None
