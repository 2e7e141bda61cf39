"""From an ``(H, W, 3)`` pixel image to the exact tensor a model sees.

The image is centre-cropped to the model's aspect ratio, then resized with
antialiasing to the model's input size (cropping first keeps extreme aspect
ratios such as 1×40 000 cheap).  A clip model takes a clip of frames, or a
still image repeated over its clip length.
"""

from __future__ import annotations

import numpy as np
import torch
from torchvision.transforms.v2 import functional as TF

from workbench.errors import InputError


def check_image(image: np.ndarray) -> None:
    """Raise :class:`InputError` unless ``image`` is a finite ``(H, W, 3)`` array."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        raise InputError(f"expected an (H, W, 3) RGB image, got shape {shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise InputError("the image is empty")
    if not np.isfinite(image).all():
        raise InputError("the image contains NaN or infinite pixel values")


def check_batch(model, x) -> torch.Tensor:
    """``x`` detached on the model's device, after checking it is a batch of pixels of the
    model's kind (``(N, 3, H, W)``, or ``(N, 3, T, H, W)`` for video) without NaN."""
    expected = 5 if model.kind == "video" else 4
    if not isinstance(x, torch.Tensor) or x.ndim != expected or x.shape[1] != 3:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise InputError(f"{model.name} expects a batch of shape {model.input_shape(1)}, "
                         f"got {shape}")
    if not torch.isfinite(x).all():
        raise InputError("the input contains NaN or infinite pixel values")
    return x.detach().to(model.device)


def crop_box(height: int, width: int, target: tuple[int, int], crop_pct: float = 1.0,
             crop_mode: str = "center") -> tuple[int, int, int, int]:
    """``(top, left, h, w)`` of the centred crop of an image with the target's aspect ratio
    (``crop_mode="squash"``: the whole image), shrunk to ``crop_pct`` of it (timm's eval
    crop: resize to ``size / crop_pct``, then crop ``size``)."""
    th, tw = target
    if crop_mode == "squash":
        h, w = height, width
    elif width * th > height * tw:
        h, w = height, max(1, round(height * tw / th))
    else:
        h, w = max(1, round(width * th / tw)), width
    if crop_pct < 1.0:
        h, w = max(1, round(h * crop_pct)), max(1, round(w * crop_pct))
    return (height - h) // 2, (width - w) // 2, h, w


INTERPOLATIONS = {"bilinear": TF.InterpolationMode.BILINEAR,
                  "bicubic": TF.InterpolationMode.BICUBIC,
                  "nearest": TF.InterpolationMode.NEAREST}


def resize_options(model) -> dict:
    """A loaded model's own resize options (a timm model's interpolation and crop)."""
    extras = getattr(model, "extras", None) or {}
    return {key: extras[key] for key in ("interpolation", "crop_pct", "crop_mode")
            if key in extras}


def fit_to(x: torch.Tensor, size: tuple[int, int], interpolation: str = "bilinear",
           crop_pct: float = 1.0, crop_mode: str = "center") -> torch.Tensor:
    """``(B, 3, H, W)`` pixels → the centre crop with ``size``'s aspect, resized to ``size``
    with antialiasing (what every model input goes through, images and video frames)."""
    top, left, h, w = crop_box(x.shape[2], x.shape[3], size, crop_pct, crop_mode)
    x = x[:, :, top : top + h, left : left + w]
    if (h, w) != tuple(size):
        mode = INTERPOLATIONS.get(interpolation, TF.InterpolationMode.BILINEAR)
        x = TF.resize(x, list(size), interpolation=mode, antialias=True)
    return x.clamp(0.0, 1.0)


def to_pixels(image: np.ndarray, size: tuple[int, int], device="cpu", **resize) -> torch.Tensor:
    """``(1, 3, h, w)`` float32 tensor in [0, 1] at ``size`` from an ``(H, W, 3)`` image
    (``resize``: :func:`fit_to`'s interpolation and crop options)."""
    check_image(image)
    top, left, h, w = crop_box(image.shape[0], image.shape[1], size,
                               resize.get("crop_pct", 1.0), resize.get("crop_mode", "center"))
    crop = np.ascontiguousarray(image[top : top + h, left : left + w], dtype=np.float32)
    x = torch.from_numpy(crop).permute(2, 0, 1).unsqueeze(0).to(device)
    return fit_to(x, size, resize.get("interpolation", "bilinear"),
                  crop_mode=resize.get("crop_mode", "center"))


def model_input(model, image: np.ndarray) -> torch.Tensor:
    """The input tensor ``model`` (a :class:`LoadedModel`) sees for ``image``, on its device.

    ``image`` is an ``(H, W, 3)`` picture, or for a clip model a clip ``(T, H, W, 3)`` of
    float frames (a video's clip at the current position).  A clip model given a still
    picture sees it repeated over its clip length (:func:`is_repeated_still` says so).
    """
    if isinstance(image, np.ndarray) and image.ndim == 4:
        return _clip_input(model, image)
    x = to_pixels(image, model.input_size, model.device, **resize_options(model))
    if model.kind == "video":
        x = x.unsqueeze(2).expand(-1, -1, model.num_frames, -1, -1).contiguous()
    return x


def _clip_input(model, clip: np.ndarray) -> torch.Tensor:
    if model.kind != "video":
        raise InputError(f"{model.name} is an image model; it takes one picture, not a clip "
                         f"of {clip.shape[0]} frames")
    if clip.shape[-1] != 3 or clip.shape[0] < 1:
        raise InputError(f"expected a clip of shape (T, H, W, 3), got {clip.shape}")
    for frame in clip[:1]:
        check_image(frame)
    if not np.isfinite(clip).all():
        raise InputError("the clip contains NaN or infinite pixel values")
    frames = torch.from_numpy(np.ascontiguousarray(clip, dtype=np.float32)).to(model.device)
    x = fit_to(frames.permute(0, 3, 1, 2), model.input_size)
    return x.permute(1, 0, 2, 3).unsqueeze(0).contiguous()


def is_repeated_still(model, image) -> bool:
    """A clip model given one picture (it sees no motion: every frame is the same)."""
    return model.kind == "video" and getattr(image, "ndim", 0) == 3


def shown_frame(clip_length: int) -> int:
    """Which frame of a clip a single picture of it shows: the middle one."""
    return clip_length // 2


def to_image(pixels: torch.Tensor) -> np.ndarray:
    """``(1, 3, H, W)`` (or a clip's middle frame, :func:`shown_frame`) back to an
    ``(H, W, 3)`` numpy image."""
    x = pixels.detach()
    if x.ndim == 5:
        x = x[:, :, shown_frame(x.shape[2])]
    return x[0].permute(1, 2, 0).float().cpu().numpy()


def shown_map(heat: np.ndarray) -> np.ndarray:
    """A clip's map ``(T, H, W)`` as the single picture drawn with :func:`to_image`."""
    return heat[shown_frame(heat.shape[0])] if heat.ndim == 3 else heat
