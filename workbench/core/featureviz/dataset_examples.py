"""Dataset examples: the images, and the crops around the strongest position, that
activate a unit most (Distill, "Feature Visualization": optimization vs. dataset
examples)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch

from workbench.core.featureviz.objectives import grid
from workbench.core.jobs import JobContext, PlainContext
from workbench.core.models.layout import channels_first

CROP_FRACTION = 0.4  # crop side as a fraction of the input side


@contextlib.contextmanager
def _layer_grids(model, layer: str):
    """While open, ``captured["out"]`` holds the layer's last output as ``(B, C, H, W)``."""
    module = model.layer_module(layer)
    info = model.layer_info(layer)
    captured: dict = {}

    def hook(_module, _inputs, out):
        tensor = out if isinstance(out, torch.Tensor) else out[0]
        captured["out"] = grid({layer: channels_first(tensor, info)}, layer)

    handle = module.register_forward_hook(hook)
    try:
        yield captured
    finally:
        handle.remove()
        captured.clear()


@dataclass
class Example:
    index: int  # position in the given list of images
    score: float  # the channel's strongest activation in this image
    crop: np.ndarray  # (h, w, 3) around the strongest position of the model input
    image: np.ndarray  # the whole model input


def _crop(picture: np.ndarray, y: float, x: float) -> np.ndarray:
    h, w = picture.shape[:2]
    side = max(8, int(min(h, w) * CROP_FRACTION))
    top = int(np.clip(y - side / 2, 0, h - side))
    left = int(np.clip(x - side / 2, 0, w - side))
    return picture[top : top + side, left : left + side]


def top_examples(model, images, layer: str, channel: int, k: int = 9, batch_size: int = 16,
                 ctx: JobContext | None = None) -> list[Example]:
    """The ``k`` images whose strongest ``channel`` activation at ``layer`` is highest.

    ``images`` is a list of ``(H, W, 3)`` pixel arrays (any size: each is
    centre-cropped and resized like every model input).
    """
    from workbench.core.preprocess import model_input, to_image

    ctx = ctx or PlainContext()
    scored = []
    with _layer_grids(model, layer) as captured:
        for start in range(0, len(images), batch_size):
            ctx.check()
            chunk = [model_input(model, image) for image in images[start : start + batch_size]]
            x = torch.cat(chunk)
            with torch.inference_mode():
                model.module(x)
            maps = captured["out"][:, channel].float()
            for offset, values in enumerate(maps):
                flat = int(values.argmax())
                y, xpos = divmod(flat, values.shape[-1])
                picture = to_image(x[offset : offset + 1])
                scale_y = picture.shape[0] / values.shape[0]
                scale_x = picture.shape[1] / values.shape[1]
                scored.append(Example(start + offset, float(values.max()),
                                      _crop(picture, (y + 0.5) * scale_y, (xpos + 0.5) * scale_x),
                                      picture))
            ctx.progress(min(1.0, (start + batch_size) / len(images)), "Dataset examples")
    return sorted(scored, key=lambda e: -e.score)[:k]


def channel_activations(model, image, layer: str) -> np.ndarray:
    """``(C, h, w)`` activations of every channel of ``layer`` for one image (thumbnails)."""
    from workbench.core.preprocess import model_input

    with _layer_grids(model, layer) as captured, torch.inference_mode():
        model.module(model_input(model, image))
        return captured["out"][0].float().cpu().numpy()
