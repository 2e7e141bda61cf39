"""Class probabilities for one input: the Predict panel's and ``workbench predict``'s job."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from workbench.core import fastpath
from workbench.core.jobs import JobContext, PlainContext
from workbench.errors import InputError


@dataclass(frozen=True)
class ClassScore:
    index: int
    label: str
    prob: float

    def as_dict(self) -> dict:
        return {"index": self.index, "label": self.label, "prob": self.prob}


@dataclass
class Prediction:
    """Probabilities over all classes (softmax; for a multi-label model each label's own
    sigmoid, so they need not sum to 1), plus the top-k (best first)."""

    probs: np.ndarray
    top: list[ClassScore]

    @property
    def best(self) -> ClassScore:
        return self.top[0]


def top_scores(model, probs: torch.Tensor, k: int = 5) -> list[ClassScore]:
    """The ``k`` most probable classes of one input's probabilities ``(C,)``, best first."""
    values, indices = probs.topk(min(max(1, k), probs.numel()))
    return [ClassScore(int(i), model.label(int(i)), float(v))
            for v, i in zip(values.tolist(), indices.tolist(), strict=True)]


def probabilities(model, logits: torch.Tensor) -> torch.Tensor:
    """``(N, C)`` logits → probabilities: softmax over classes, or for a multi-label model
    (``model.multi_label``) an independent sigmoid per label."""
    if getattr(model, "multi_label", False):
        return torch.sigmoid(logits.float())
    return torch.softmax(logits.float(), dim=1)


def log_probability(model, logits: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """``(N,)`` log-probability of ``classes[i]`` in row ``i``: log-softmax, or for a
    multi-label model the label's own log-sigmoid (the other labels do not compete)."""
    picked = logits.float().gather(1, classes.view(-1, 1))[:, 0]
    if getattr(model, "multi_label", False):
        return F.logsigmoid(picked)
    return picked - torch.logsumexp(logits.float(), dim=1)


def logits_to_prediction(model, logits: torch.Tensor, topk: int = 5) -> Prediction:
    """One input's logits ``(1, C)`` → :class:`Prediction` (NaN outputs are an error)."""
    if not torch.isfinite(logits).all():
        raise InputError(f"model {model.name} produced NaN or infinite outputs")
    probs = probabilities(model, logits)[0]
    return Prediction(probs=probs.cpu().numpy(), top=top_scores(model, probs, topk))


def predict_pixels(
    model, pixels: torch.Tensor, topk: int = 5, ctx: JobContext | None = None
) -> Prediction:
    """Run ``model`` on a ``(1, 3, H, W)`` pixel tensor already on its device."""
    ctx = ctx or PlainContext()
    if not torch.isfinite(pixels).all():
        raise InputError("the input contains NaN or infinite pixel values")
    ctx.check()
    with torch.inference_mode():
        return logits_to_prediction(model, fastpath.forward(model, pixels), topk)


def predict_image(model, image: np.ndarray, topk: int = 5, ctx: JobContext | None = None):
    """Preprocess an ``(H, W, 3)`` image and predict; returns ``(Prediction, input tensor)``."""
    from workbench.core.preprocess import model_input

    pixels = model_input(model, image)
    return predict_pixels(model, pixels, topk, ctx), pixels
