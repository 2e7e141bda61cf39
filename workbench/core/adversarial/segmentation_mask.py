"""Targeted attack on a segmenter: a small perturbation that makes it output a chosen mask.

Metzen, Kumar, Brox & Fischer, "Universal Adversarial Perturbations Against Semantic Image
Segmentation", ICCV 2017, https://arxiv.org/abs/1704.05712 (the static-target scenario:
iterative targeted FGSM on the per-pixel cross-entropy to the target segmentation, projected
on an L∞ ball; here for one image).  The lecture's "minion" slide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from workbench.core.adversarial.base import check_pixels, gradients_allowed
from workbench.core.jobs import JobContext, PlainContext
from workbench.core.params import make, param
from workbench.errors import InputError

IGNORE = -1  # target pixels that may take any class


@dataclass
class MaskAttackParams:
    eps: float = param(8 / 255, low=0.0, high=1.0, step=1 / 255,
                       help="L∞ budget in pixel units")
    step_size: float = param(1 / 255, low=0.0, high=1.0, step=1 / 255,
                             help="size of each step in pixel units")
    steps: int = param(100, low=1, high=10000, help="number of steps")
    stop_at: float = param(1.0, low=0.0, high=1.0, step=0.01,
                           help="stop once this fraction of the pixels takes the target class")
    preview_every: int = param(10, low=1, high=10000, help="send a preview every N steps")


@dataclass
class MaskAttackResult:
    """The adversarial picture and the segmentations before and after, at the input size."""

    adversarial: torch.Tensor
    perturbation: torch.Tensor
    target: np.ndarray  # (h, w) class per pixel, IGNORE where any class will do
    before: np.ndarray  # (h, w) predicted classes on the clean picture
    after: np.ndarray
    agreement_before: float  # fraction of (non-ignored) pixels equal to the target
    agreement_after: float
    changed_after: float  # the same over the pixels where the target differs from before
    history: np.ndarray  # agreement after each step
    linf: float
    steps: int
    params: MaskAttackParams


@dataclass
class MaskAttackPreview:
    predicted: np.ndarray
    agreement: float
    step: int


def target_mask(model, mask) -> torch.Tensor:
    """A class-index mask (any size) as a long tensor at the model input's size (nearest)."""
    mask = torch.as_tensor(np.asarray(mask), dtype=torch.long, device=model.device)
    if mask.ndim != 2:
        raise InputError(f"a target mask is (H, W) class indices, not {tuple(mask.shape)}")
    bad = mask[(mask != IGNORE) & ((mask < 0) | (mask >= model.num_classes))]
    if bad.numel():
        raise InputError(f"target class {int(bad[0])} is outside 0 … {model.num_classes - 1}")
    if tuple(mask.shape) != tuple(model.input_size):
        mask = F.interpolate(mask[None, None].float(), size=model.input_size,
                             mode="nearest")[0, 0].long()
    if not bool((mask != IGNORE).any()):
        raise InputError("the target mask ignores every pixel")
    return mask


def _logits(model, x):
    logits = model.module(x).float()
    if tuple(logits.shape[-2:]) != tuple(x.shape[-2:]):
        logits = F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)
    return logits


def agreement(predicted: torch.Tensor, target: torch.Tensor) -> float:
    counted = target != IGNORE
    return float((predicted[counted] == target[counted]).float().mean())


def mask_attack(model, x, mask, params=None, ctx: JobContext | None = None) -> MaskAttackResult:
    """Perturb ``x`` (1, 3, h, w) within ``params.eps`` so that ``model`` segments it as
    ``mask`` (class per pixel; :data:`IGNORE` where any class will do)."""
    from workbench.core.models.task_outputs import SEGMENTATION

    ctx = ctx or PlainContext()
    params = params if isinstance(params, MaskAttackParams) else make(MaskAttackParams, params)
    if model.task != SEGMENTATION:
        raise InputError(f"{model.name} is not a segmenter: a target mask needs one")
    target = target_mask(model, mask)
    with gradients_allowed():
        x = check_pixels(model, x)[:1]
        with torch.no_grad():
            before = _logits(model, x)[0].argmax(0)
        adv, history = _iterate(model, x, target, params, ctx)
        with torch.no_grad():
            after = _logits(model, adv)[0].argmax(0)
    delta = adv - x
    changed = torch.where(before == target, IGNORE, target)
    changed_after = agreement(after, changed) if bool((changed != IGNORE).any()) else 1.0
    return MaskAttackResult(
        adv, delta, target.cpu().numpy(), before.cpu().numpy(), after.cpu().numpy(),
        agreement(before, target), agreement(after, target), changed_after,
        np.array(history, np.float32),
        float(delta.abs().max()), len(history), params)


def _iterate(model, x, target, params, ctx):
    """Targeted FGSM steps on the cross-entropy to ``target``, projected after each."""
    adv = x.clone()
    history: list[float] = []
    for step in range(params.steps):
        ctx.check()
        leaf = adv.detach().requires_grad_(True)
        logits = _logits(model, leaf)
        loss = F.cross_entropy(logits, target[None], ignore_index=IGNORE)
        (grad,) = torch.autograd.grad(loss, leaf)
        with torch.no_grad():
            adv = leaf - params.step_size * grad.sign()
            adv = (x + (adv - x).clamp(-params.eps, params.eps)).clamp(0.0, 1.0)
            reached = agreement(logits[0].argmax(0), target)  # before this step
        history.append(reached)
        ctx.progress((step + 1) / params.steps, f"Target mask: step {step + 1} of "
                     f"{params.steps}, {reached:.0%} of the pixels agree")
        if (step + 1) % params.preview_every == 0:
            ctx.partial(MaskAttackPreview(logits[0].argmax(0).cpu().numpy(), reached, step + 1))
        if reached >= params.stop_at:
            break
    return adv.detach(), history
