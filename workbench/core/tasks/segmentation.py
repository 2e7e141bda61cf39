"""What a segmenter labels in one picture: the class of every pixel, at the model input's
size and at the original image's, and each class's share of the picture."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from workbench.core.jobs import JobContext, PlainContext
from workbench.core.preprocess import model_input
from workbench.errors import InputError


@dataclass
class Segmentation:
    """``class_map`` ``(h, w)`` at the model input's size, ``original_map`` ``(H, W)`` at the
    picture's (class scores upsampled bilinearly, then the best class per pixel);
    ``confidence`` ``(h, w)``: the winning class's probability."""

    class_map: np.ndarray
    original_map: np.ndarray
    confidence: np.ndarray
    label_names: list[str]

    def shares(self) -> dict[str, float]:
        """Each present class's fraction of the original picture's pixels, largest first."""
        counts = np.bincount(self.original_map.ravel(), minlength=len(self.label_names))
        total = max(1, int(counts.sum()))
        order = np.argsort(-counts, kind="stable")
        return {self.label_names[i]: float(counts[i] / total) for i in order if counts[i]}

    def as_dict(self) -> dict:
        return {"size": list(self.original_map.shape),
                "shares": [{"label": k, "class": self.label_names.index(k), "share": v}
                           for k, v in self.shares().items()]}


def class_scores(model, x: torch.Tensor) -> torch.Tensor:
    """``(N, K, h, w)`` per-pixel class scores at the model input's size, without a graph."""
    with torch.inference_mode():
        logits = model.module(x).float()
    if tuple(logits.shape[-2:]) != tuple(x.shape[-2:]):
        logits = F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)
    return logits


def to_segmentation(logits: torch.Tensor, model, image_size) -> Segmentation:
    """One picture's ``(K, h, w)`` scores → :class:`Segmentation`."""
    probs = torch.softmax(logits, dim=0)
    confidence, class_map = probs.max(dim=0)
    big = F.interpolate(logits[None], size=tuple(image_size), mode="bilinear",
                        align_corners=False)[0]
    return Segmentation(class_map.cpu().numpy().astype(np.int64),
                        big.argmax(0).cpu().numpy().astype(np.int64),
                        confidence.cpu().numpy().astype(np.float32), list(model.labels))


def segment(model, image: np.ndarray, ctx: JobContext | None = None) -> Segmentation:
    """The segmentation of an ``(H, W, 3)`` picture (the Predict tab's job)."""
    from workbench.core.models.task_outputs import SEGMENTATION

    ctx = ctx or PlainContext()
    if model.task != SEGMENTATION:
        raise InputError(f"{model.name} is not a segmenter (its task: {model.task})")
    ctx.progress(0.1, f"Segmenting with {model.name}")
    logits = class_scores(model, model_input(model, image))
    ctx.check()
    ctx.progress(1.0, "Segmented")
    return to_segmentation(logits[0], model, image.shape[:2])
