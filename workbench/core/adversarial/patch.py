"""Adversarial patch: a sticker that makes the model see a target class anywhere.

Brown, Mané, Roy, Abadi & Gilmer, "Adversarial Patch", 2017,
https://arxiv.org/abs/1712.09665

The patch is optimized with Adam for the target class over a set of images,
each step pasting it at a random position, scale and rotation (expectation
over transformation).  Pasting is one batched ``affine_grid`` /
``grid_sample``, differentiable with respect to the patch; a round patch is a
square one with a circular (anti-aliased) mask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from workbench.core.adversarial.base import class_tensor, forward, gradients_allowed
from workbench.core.jobs import JobContext, PlainContext
from workbench.core.params import make, param, validate
from workbench.core.predict import log_probability, probabilities
from workbench.errors import InputError

SHAPES = ("circle", "square")
ANCHORS = ("top-left", "centre")


@dataclass
class PatchParams:
    size: int = param(50, low=4, high=1024, help="patch side in model-input pixels")
    shape: str = param("circle", choices=SHAPES, help="round or square patch")
    steps: int = param(200, low=1, high=100000, help="optimization steps")
    lr: float = param(0.05, low=1e-4, high=1.0, help="Adam learning rate (pixel units)")
    batch_size: int = param(8, low=1, high=1024, help="random placements per step")
    min_scale: float = param(0.8, low=0.1, high=4.0, help="smallest random scale")
    max_scale: float = param(1.2, low=0.1, high=4.0, help="largest random scale")
    max_angle: float = param(20.0, low=0.0, high=180.0,
                             help="random rotation up to ± this many degrees")
    preview_every: int = param(10, low=1, high=100000,
                               help="send the current patch for display every N steps")
    seed: int = param(0, low=0, high=2**31 - 1, help="seed of the random placements")


@dataclass
class PatchPreview:
    """The patch during training, for live display (``ctx.partial``)."""

    patch: np.ndarray  # (s, s, 3) float in [0, 1]
    mask: np.ndarray  # (s, s) float in [0, 1]
    step: int
    target_prob: float


@dataclass
class PatchResult:
    patch: torch.Tensor  # (3, s, s)
    mask: torch.Tensor  # (1, s, s)
    target: int
    steps_run: int
    history: np.ndarray  # mean target probability of the training placements per step
    params: PatchParams


def patch_mask(size: int, shape: str = "circle", device="cpu") -> torch.Tensor:
    """``(1, size, size)`` mask: ones, or a disk with a one-pixel soft edge."""
    if shape not in SHAPES:
        raise InputError(f"patch shape must be one of {', '.join(SHAPES)}, not '{shape}'")
    if shape == "square":
        return torch.ones(1, size, size, device=device)
    centres = torch.arange(size, device=device, dtype=torch.float32) + 0.5 - size / 2
    dist = torch.sqrt(centres[None, :] ** 2 + centres[:, None] ** 2)
    return (size / 2 - dist + 0.5).clamp(0.0, 1.0)[None]


def placement_theta(height, width, patch_hw, centres, scales, angles) -> torch.Tensor:
    """``(N, 2, 3)`` affine maps from output coordinates to the patch's, for ``grid_sample``.

    ``centres`` ``(N, 2)`` are (x, y) in pixels (continuous: pixel i spans [i, i+1));
    ``angles`` ``(N,)`` in degrees, counter-clockwise on screen.
    """
    rad = angles * (math.pi / 180.0)
    cos, sin = torch.cos(rad), torch.sin(rad)
    inverse_rotation = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    ph, pw = patch_hw
    shrink = torch.stack([2.0 / (pw * scales), 2.0 / (ph * scales)], -1)  # (N, 2)
    linear = shrink[:, :, None] * inverse_rotation  # D · Rᵀ
    half = centres.new_tensor([width / 2.0, height / 2.0])
    offset = torch.einsum("nij,nj->ni", linear, half - centres)
    return torch.cat([linear * half, offset[:, :, None]], dim=2)


def place(x, patch, mask, centres, scales, angles) -> torch.Tensor:
    """Paste ``patch`` (3, h, w) with ``mask`` (1, h, w) on each image of ``x`` (N, 3, H, W)."""
    n, _, height, width = x.shape
    theta = placement_theta(height, width, patch.shape[-2:], centres.to(x), scales.to(x),
                            angles.to(x))
    grid = F.affine_grid(theta, [n, 4, height, width], align_corners=False)
    rgba = torch.cat([patch * mask, mask]).to(x).expand(n, -1, -1, -1)
    warped = F.grid_sample(rgba, grid, mode="bilinear", padding_mode="zeros",
                           align_corners=False)
    return x * (1 - warped[:, 3:]) + warped[:, :3]


def apply_patch(x, patch, mask=None, position=None, scale: float = 1.0, angle: float = 0.0,
                anchor: str = "top-left") -> torch.Tensor:
    """Paste a patch anywhere on pixels ``x`` (N, 3, H, W).

    Parameters
    ----------
    patch, mask
        ``(3, h, w)`` colours and ``(1, h, w)`` opacity (default: opaque square).
    position
        ``(x, y)`` in pixels of the scaled patch's top-left corner (or of its centre
        with ``anchor="centre"``); ``None``: the image centre.
    scale, angle
        Size factor, and rotation in degrees counter-clockwise about the patch centre.
    """
    if x.ndim != 4 or x.shape[1] != 3 or patch.ndim != 3 or patch.shape[0] != 3:
        raise InputError(f"expected pixels (N, 3, H, W) and a patch (3, h, w), got "
                         f"{tuple(x.shape)} and {tuple(patch.shape)}")
    if anchor not in ANCHORS:
        raise InputError(f"anchor must be one of {', '.join(ANCHORS)}, not '{anchor}'")
    if not scale > 0:
        raise InputError(f"patch scale must be above 0, not {scale}")
    mask = torch.ones_like(patch[:1]) if mask is None else mask
    n, _, height, width = x.shape
    ph, pw = patch.shape[-2:]
    if position is None:
        centre = (width / 2.0, height / 2.0)
    elif anchor == "centre":
        centre = (float(position[0]), float(position[1]))
    else:
        centre = (position[0] + pw * scale / 2.0, position[1] + ph * scale / 2.0)
    centres = torch.tensor([centre], dtype=x.dtype, device=x.device).expand(n, 2)
    scales = torch.full((n,), float(scale), dtype=x.dtype, device=x.device)
    angles = torch.full((n,), float(angle), dtype=x.dtype, device=x.device)
    return place(x, patch.to(x), mask.to(x), centres, scales, angles).clamp(0.0, 1.0)


def stack_images(model, images) -> torch.Tensor:
    """Pixel tensors ``(3, H, W)`` or ``(1, 3, H, W)``, or a batch ``(N, 3, H, W)``, stacked."""
    if isinstance(images, torch.Tensor):
        images = list(images) if images.ndim == 4 else [images]
    if not images:
        raise InputError("a patch needs at least one image to train on")
    rows = [im[0] if im.ndim == 4 else im for im in images]
    for im in rows:
        if im.ndim != 3 or im.shape[0] != 3 or tuple(im.shape[1:]) != tuple(model.input_size):
            raise InputError(f"patch images must be pixels of shape (3, {model.input_size[0]}, "
                             f"{model.input_size[1]}), got {tuple(im.shape)}")
    batch = torch.stack(rows).detach().float().to(model.device)
    if not torch.isfinite(batch).all():
        raise InputError("the images contain NaN or infinite pixel values")
    return batch.clamp(0.0, 1.0)


def random_placements(n, height, width, size, params, gen, device):
    """Random centres (the scaled patch inside the image), scales and angles."""
    def uniform(low, high):
        return low + (high - low) * torch.rand(n, generator=gen, device=device)

    scales = uniform(params.min_scale, params.max_scale)
    angles = uniform(-params.max_angle, params.max_angle)
    half = size * scales / 2
    cx = half + (width - 2 * half).clamp(min=0) * torch.rand(n, generator=gen, device=device)
    cy = half + (height - 2 * half).clamp(min=0) * torch.rand(n, generator=gen, device=device)
    return torch.stack([cx, cy], dim=1), scales, angles


@gradients_allowed()
def train_patch(model, images, target: int, params=None, ctx: JobContext | None = None,
                init: torch.Tensor | None = None) -> PatchResult:
    """Optimize a patch that makes ``model`` predict ``target`` on ``images``.

    Every ``params.preview_every`` steps a :class:`PatchPreview` goes to
    ``ctx.partial``; ``ctx.check()`` runs every step.
    """
    ctx = ctx or PlainContext()
    params = make(PatchParams, params) if params is None or isinstance(params, dict) else params
    validate(params)
    if params.min_scale > params.max_scale:
        raise InputError("min_scale must not exceed max_scale")
    batch = stack_images(model, images)
    device, (height, width) = batch.device, batch.shape[-2:]
    if params.size > min(height, width):
        raise InputError(f"patch size {params.size} is larger than the {height}×{width} input")
    target = int(class_tensor(target, 1, model.num_classes, device)[0])
    gen = torch.Generator(device=device).manual_seed(params.seed)
    size = params.size
    mask = patch_mask(size, params.shape, device)
    start = torch.rand(3, size, size, generator=gen, device=device) if init is None else init
    if tuple(start.shape) != (3, size, size):
        raise InputError(f"the starting patch must be (3, {size}, {size}), "
                         f"not {tuple(start.shape)}")
    patch = start.detach().clone().float().to(device).clamp(0, 1).requires_grad_(True)
    optimizer = torch.optim.Adam([patch], lr=params.lr)
    labels = torch.full((params.batch_size,), target, device=device, dtype=torch.long)
    history = []
    for k in range(params.steps):
        ctx.check()
        rows = torch.randint(batch.shape[0], (params.batch_size,), generator=gen, device=device)
        placement = random_placements(params.batch_size, height, width, size, params, gen,
                                      device)
        with torch.enable_grad():
            logits = model.module(place(batch[rows], patch, mask, *placement))
            loss = -log_probability(model, logits, labels).mean()
            (patch.grad,) = torch.autograd.grad(loss, patch)
        optimizer.step()
        with torch.no_grad():
            patch.clamp_(0.0, 1.0)
        history.append(float(probabilities(model, logits.detach())[:, target].mean()))
        ctx.progress((k + 1) / params.steps, f"Patch: step {k + 1} of {params.steps}")
        if (k + 1) % params.preview_every == 0 or k + 1 == params.steps:
            ctx.partial(preview(patch, mask, k + 1, history[-1]))
    return PatchResult(patch.detach(), mask, target, params.steps, np.array(history), params)


def preview(patch, mask, step: int, prob: float) -> PatchPreview:
    return PatchPreview(patch.detach().permute(1, 2, 0).cpu().numpy().copy(),
                        mask[0].detach().cpu().numpy().copy(), step, prob)


def patch_effect(model, x, patch, mask, target: int, trials: int = 8, seed: int = 0,
                 scale: float = 1.0) -> torch.Tensor:
    """Mean probability of ``target`` over ``trials`` random placements, per image of ``x``."""
    gen = torch.Generator(device=x.device).manual_seed(seed)
    n, _, height, width = x.shape
    fixed = PatchParams(min_scale=scale, max_scale=scale, max_angle=0.0)
    probs = torch.zeros(n, device=x.device)
    for _ in range(trials):
        placement = random_placements(n, height, width, max(patch.shape[-2:]), fixed, gen,
                                      x.device)
        pasted = place(x, patch, mask, *placement).clamp(0.0, 1.0)
        probs += probabilities(model, forward(model, pasted))[:, target]
    return probs / trials
