"""Prediction with a painted mask applied (the Occlusion tab's paint mode)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from workbench.core import fastpath
from workbench.core.jobs import JobContext, PlainContext
from workbench.core.occlusion.fills import apply_fill
from workbench.core.predict import ClassScore, probabilities
from workbench.core.preprocess import to_image
from workbench.errors import InputError


@dataclass
class MaskedPrediction:
    """Top-k on the masked input, with each class's change against the unmasked one."""

    masked_image: np.ndarray  # (H, W, 3) what the model saw
    probs: np.ndarray  # (C,) on the masked input
    base_probs: np.ndarray  # (C,) on the unmasked input
    top: list[ClassScore]
    labels: list[str]

    def delta(self, index: int) -> float:
        return float(self.probs[index] - self.base_probs[index])

    def rows(self, k: int | None = None) -> list[dict]:
        """``{"index", "label", "prob", "base", "delta"}`` for the masked top-k."""
        return [{"index": s.index, "label": s.label, "prob": s.prob,
                 "base": float(self.base_probs[s.index]), "delta": self.delta(s.index)}
                for s in self.top[:k]]


def mask_tensor(mask: np.ndarray, size, device) -> torch.Tensor:
    """A ``(H, W)`` mask (bool or [0, 1]) as ``(1, 1, H, W)``, resized to ``size`` if needed."""
    m = torch.as_tensor(np.asarray(mask, dtype=np.float32), device=device)
    if m.ndim != 2:
        raise InputError(f"a mask must be 2-D, got shape {tuple(m.shape)}")
    m = m[None, None]
    if tuple(m.shape[-2:]) != tuple(size):
        m = torch.nn.functional.interpolate(m, size=tuple(size), mode="nearest")
    return m.clamp(0.0, 1.0)


def predict_masked(model, x: torch.Tensor, mask: np.ndarray, fill="grey", topk: int = 5,
                   base_probs: np.ndarray | None = None,
                   ctx: JobContext | None = None) -> MaskedPrediction:
    """Predict ``x`` (1, 3, H, W) — or a clip (1, 3, T, H, W), the mask on every frame — with
    ``mask`` hidden; the unmasked run is reused if given."""
    ctx = ctx or PlainContext()
    image = x[0]
    m = mask_tensor(mask, image.shape[-2:], image.device)
    masked = apply_fill(image, m, fill)
    batch = masked if base_probs is not None else torch.cat([masked, image[None]])
    ctx.check()
    with torch.inference_mode():
        probs = probabilities(model, fastpath.forward(model, batch)).cpu().numpy()
    base = base_probs if base_probs is not None else probs[1]
    values = probs[0]
    order = np.argsort(-values)[:topk]
    top = [ClassScore(int(i), model.label(int(i)), float(values[i])) for i in order]
    picture = to_image(masked[:1])
    return MaskedPrediction(picture, values, base, top, model.labels)
