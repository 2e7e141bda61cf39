"""What replaces occluded pixels, in pixel space: mean colour, grey, blur, noise, black,
or a smooth inpainting from the surrounding pixels."""

from __future__ import annotations

import torch
from torch.nn import functional as F
from torchvision.transforms.v2 import functional as TF

from workbench.errors import InputError

FILL_MODES = ("grey", "mean", "blur", "noise", "black", "inpaint")
INPAINT_SIGMAS = (32.0, 16.0, 8.0, 4.0, 2.0)


def parse_fill(text) -> str | float:
    """``"mean"`` and the other names stay names; a number in [0, 1] is a grey level."""
    if isinstance(text, (int, float)):
        value = float(text)
    elif str(text).strip().lower() in FILL_MODES:
        return str(text).strip().lower()
    else:
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"fill must be a grey level in [0, 1] or one of "
                             f"{', '.join(FILL_MODES)}, not '{text}'") from None
    if not 0.0 <= value <= 1.0:
        raise InputError(f"fill grey level must be in [0, 1], not {value}")
    return value


def fill_image(image: torch.Tensor, fill) -> torch.Tensor:
    """A full-size replacement ``(3, H, W)`` for ``image`` (all modes except ``inpaint``)."""
    if isinstance(fill, float):
        return torch.full_like(image, fill)
    if fill == "grey":
        return torch.full_like(image, 0.5)
    if fill == "black":
        return torch.zeros_like(image)
    if fill == "mean":
        return image.mean(dim=(1, 2), keepdim=True).expand_as(image).clone()
    if fill == "noise":
        generator = torch.Generator(device=image.device).manual_seed(0)
        return torch.rand(image.shape, generator=generator, device=image.device)
    if fill == "blur":
        side = max(image.shape[-2:])
        kernel = 2 * (side // 10) + 1
        return TF.gaussian_blur(image[None], [kernel, kernel], [side / 20.0] * 2)[0]
    raise InputError(f"unknown fill '{fill}'")


def _separable_blur(values: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of ``(B, C, H, W)`` with two 1-D passes and replicated borders."""
    radius = max(1, int(3 * sigma))
    taps = torch.arange(-radius, radius + 1, device=values.device, dtype=values.dtype)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = kernel / kernel.sum()
    channels = values.shape[1]
    flat = values.reshape(-1, 1, *values.shape[-2:])
    flat = F.pad(flat, [radius, radius, 0, 0], mode="replicate")
    flat = F.conv2d(flat, kernel.view(1, 1, 1, -1))
    flat = F.pad(flat, [0, 0, radius, radius], mode="replicate")
    flat = F.conv2d(flat, kernel.view(1, 1, -1, 1))
    return flat.view(-1, channels, *values.shape[-2:])


def _gaussian(values: torch.Tensor, sigma: float) -> torch.Tensor:
    """Wide Gaussian blur, computed on a downsampled copy (cheap for large sigmas)."""
    factor = max(1, int(sigma // 2))
    if factor == 1:
        return _separable_blur(values, sigma)
    size = values.shape[-2:]
    small = F.avg_pool2d(values, factor, ceil_mode=True)
    small = _separable_blur(small, sigma / factor)
    return F.interpolate(small, size=tuple(size), mode="bilinear", align_corners=False)


def inpaint(image: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Smooth fill of the masked pixels from the rest, for a batch of masks.

    Normalized convolution from coarse to fine: each hidden pixel becomes the
    Gaussian-weighted mean of the visible pixels around it.  ``image`` is
    ``(3, H, W)``, ``masks`` ``(B, 1, H, W)`` with 1 = hidden; returns ``(B, 3, H, W)``.
    """
    visible = 1.0 - masks
    current = image[None] * visible
    known = visible
    for sigma in INPAINT_SIGMAS:
        estimate = _gaussian(current * known, sigma) / _gaussian(known, sigma).clamp_min(1e-6)
        current = image[None] * visible + estimate * masks
        known = torch.maximum(known, (_gaussian(known, sigma) > 1e-3).float())
    return current


def apply_fill(image: torch.Tensor, masks: torch.Tensor, fill) -> torch.Tensor:
    """``image`` (3, H, W) with each mask of ``masks`` (B, 1, H, W) hidden → (B, 3, H, W).

    A clip ``(3, T, H, W)`` is filled frame by frame, the same masks on every frame →
    ``(B, 3, T, H, W)``.
    """
    if image.ndim == 4:
        frames = [apply_fill(image[:, t], masks, fill) for t in range(image.shape[1])]
        return torch.stack(frames, dim=2)
    if fill == "inpaint":
        return inpaint(image, masks)
    replacement = fill_image(image, fill)
    return image[None] * (1.0 - masks) + replacement[None] * masks
