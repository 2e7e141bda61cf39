"""Transformation robustness: random pad, jitter, scale and rotation before each step
(Distill, "Feature Visualization", section "Transformation robustness"), built on
torchvision's differentiable functional transforms."""

from __future__ import annotations

import random

import torch
from torchvision.transforms.v2 import functional as TF


def robustness(image: torch.Tensor, config, rng: random.Random) -> torch.Tensor:
    """Apply the enabled transforms of ``config`` to a ``(B, 3, S, S)`` batch."""
    if config.pad:
        image = TF.pad(image, [config.pad], fill=0.5, padding_mode="constant")
    if config.jitter or config.scale or config.rotate:
        angle = rng.uniform(-config.rotate, config.rotate) if config.rotate else 0.0
        scale = rng.uniform(1 - config.scale, 1 + config.scale) if config.scale else 1.0
        shift = [rng.randint(-config.jitter, config.jitter) for _ in range(2)] if config.jitter \
            else [0, 0]
        # torchvision's ``fill`` works in place and breaks autograd: shift so that the
        # zeros it leaves outside the image become mid-grey instead.
        image = TF.affine(image - 0.5, angle=angle, translate=shift, scale=scale,
                          shear=[0.0, 0.0], interpolation=TF.InterpolationMode.BILINEAR) + 0.5
    return image


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels, per image."""
    dy = (image[..., 1:, :] - image[..., :-1, :]).abs().mean(dim=(1, 2, 3))
    dx = (image[..., :, 1:] - image[..., :, :-1]).abs().mean(dim=(1, 2, 3))
    return dx + dy


def penalties(image: torch.Tensor, config) -> torch.Tensor:
    """Weighted L1, L2 (around mid-grey) and total variation, per image."""
    centred = image - 0.5
    total = torch.zeros(image.shape[0], device=image.device)
    if config.l1:
        total = total + config.l1 * centred.abs().mean(dim=(1, 2, 3))
    if config.l2:
        total = total + config.l2 * centred.pow(2).mean(dim=(1, 2, 3))
    if config.tv:
        total = total + config.tv * total_variation(image)
    return total
