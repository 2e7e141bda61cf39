"""Transformation robustness: random pad, jitter, scale and rotation before each step
(Distill, "Feature Visualization", section "Transformation robustness"), built on
torchvision's differentiable functional transforms."""

from __future__ import annotations

import random

import torch
from torchvision.transforms.v2 import functional as TF


def robustness(image: torch.Tensor, config, rng: random.Random) -> torch.Tensor:
    """Apply the enabled transforms of ``config`` to a ``(B, 3, S, S)`` batch.

    The result is what padding by ``pad`` px of mid-grey, a random shift, scale and
    rotation of that canvas, and resizing it back to ``S × S`` would give — done as one
    affine warp of the ``S × S`` image (the canvas shrinks by ``S / (S + 2·pad)``): one
    resampling instead of a pad, a warp of the larger canvas and a resize.
    """
    if not (config.pad or config.jitter or config.scale or config.rotate):
        return image
    shrink = image.shape[-1] / (image.shape[-1] + 2 * config.pad)
    angle = rng.uniform(-config.rotate, config.rotate) if config.rotate else 0.0
    scale = rng.uniform(1 - config.scale, 1 + config.scale) if config.scale else 1.0
    shift = [rng.randint(-config.jitter, config.jitter) * shrink for _ in range(2)] \
        if config.jitter else [0.0, 0.0]
    # torchvision's ``fill`` works in place and breaks autograd: shift so that the
    # zeros it leaves outside the image become mid-grey instead.
    return TF.affine(image - 0.5, angle=angle, translate=shift, scale=scale * shrink,
                     shear=[0.0, 0.0], interpolation=TF.InterpolationMode.BILINEAR) + 0.5


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels, per image."""
    dy = (image[..., 1:, :] - image[..., :-1, :]).abs().mean(dim=(1, 2, 3))
    dx = (image[..., :, 1:] - image[..., :, :-1]).abs().mean(dim=(1, 2, 3))
    return dx + dy


def penalties(image: torch.Tensor, config) -> torch.Tensor:
    """Weighted L1, L2 (around mid-grey) and total variation, per image."""
    total = torch.zeros(image.shape[0], device=image.device)
    if not (config.l1 or config.l2 or config.tv):
        return total
    centred = image - 0.5
    if config.l1:
        total = total + config.l1 * centred.abs().mean(dim=(1, 2, 3))
    if config.l2:
        total = total + config.l2 * centred.pow(2).mean(dim=(1, 2, 3))
    if config.tv:
        total = total + config.tv * total_variation(image)
    return total
