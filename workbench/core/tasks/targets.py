"""Targets of a dense model: one detection, or one region of one class (DESIGN.md §11).

Every method in the app explains, occludes or attacks a class score of ``(N, K)`` logits.
:func:`scored_model` puts a *score head* after a detector or a segmenter, so the same
methods run unchanged with the target's class as their class:

- :class:`DetectionTarget` — the detections of each class that overlap the reference box
  (IoU ≥ ``min_iou``) give that class's matched score (the best one), optionally averaged
  with its IoU, as pytorch-grad-cam's ``FasterRCNNBoxScoreTarget`` adds the IoU
  (https://github.com/jacobgil/pytorch-grad-cam, ``utils/model_targets.py``).  The head
  returns ``logit(matched score)`` per class plus a last column, *nothing*, at the score
  threshold; the scored model is multi-label, so its probabilities are the matched scores
  themselves, and an attack that leaves the class is done once the box scores below the
  threshold.
- :class:`RegionTarget` — the mean of each class's per-pixel logit over a region (the
  predicted mask of the class, or a mask the user draws), as pytorch-grad-cam's
  ``SemanticSegmentationTarget`` sums them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from workbench.core.models.task_outputs import CLASSIFICATION, DETECTION, SEGMENTATION
from workbench.errors import InputError

NOTHING = "nothing (below the threshold)"
EPS = 1e-6


@dataclass(frozen=True)
class DetectionTarget:
    """One detection: its box ``(x0, y0, x1, y1)`` in *model input* pixels and its class."""

    box: tuple[float, float, float, float]
    label: int
    min_iou: float = 0.5
    iou_term: bool = False  # explain (score + IoU) / 2 instead of the score alone
    threshold: float = 0.5  # the score under which the detection counts as gone

    def describe(self, labels) -> str:
        x0, y0, x1, y1 = (round(v) for v in self.box)
        return f"{labels[self.label]} at ({x0}, {y0})–({x1}, {y1})"


@dataclass(frozen=True)
class RegionTarget:
    """One class over a region: ``mask`` ``(H, W)`` bool at the model input's size, or
    ``None`` for the pixels the model itself labels ``label`` on the clean input."""

    label: int
    mask: np.ndarray | None = None

    def describe(self, labels) -> str:
        where = "its predicted region" if self.mask is None else (
            f"a region of {int(np.count_nonzero(self.mask))} pixels")
        return f"{labels[self.label]} over {where}"


class DetectionScores(nn.Module):
    """Detection dicts → ``(N, K + 1)`` logits of each class's IoU-matched score."""

    def __init__(self, target: DetectionTarget, num_classes: int):
        super().__init__()
        self.target = target
        self.num_classes = num_classes
        self.register_buffer("box", torch.tensor(target.box, dtype=torch.float32)[None],
                             persistent=False)

    def forward(self, detections) -> torch.Tensor:
        from torchvision.ops import box_iou

        rows = []
        for det in detections:
            boxes, labels, scores = det["boxes"], det["labels"].long(), det["scores"]
            matched = torch.zeros(self.num_classes, device=scores.device, dtype=scores.dtype)
            if len(boxes):
                iou = box_iou(boxes.float(), self.box.to(boxes.device))[:, 0]
                value = (scores + iou) / 2 if self.target.iou_term else scores
                keep = (iou >= self.target.min_iou) & (labels >= 0) & (labels < self.num_classes)
                if keep.any():
                    matched = matched.scatter_reduce(0, labels[keep], value[keep], "amax")
            rows.append(matched)
        scores = torch.stack(rows).clamp(EPS, 1 - EPS)
        floor = torch.full_like(scores[:, :1], float(np.clip(self.target.threshold, EPS, 1 - EPS)))
        return torch.logit(torch.cat([scores, floor], dim=1))


class RegionScores(nn.Module):
    """Per-pixel logits ``(N, K, H, W)`` → ``(N, K)``: each class's mean over the region."""

    def __init__(self, mask: torch.Tensor, label: int = 0):
        super().__init__()
        self.label = int(label)  # the class it is for (the mask alone decides the scores)
        self.register_buffer("mask", mask.float(), persistent=False)

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        mask = self.mask
        if tuple(mask.shape) != tuple(logits.shape[-2:]):
            mask = nn.functional.interpolate(mask[None, None], size=logits.shape[-2:],
                                             mode="nearest")[0, 0]
        return (logits * mask).sum((2, 3)) / mask.sum().clamp_min(1.0)


class ScoredModule(nn.Module):
    """A dense model's pixel module followed by a target's score head.

    It keeps the pixel module's ``net`` (layers are found, hooked and named as before) and
    its ``normalize``; its forward returns the head's ``(N, K)`` scores.
    """

    def __init__(self, pixel_module: nn.Module, head: nn.Module):
        super().__init__()
        self.pixel = pixel_module
        self.head = head

    @property
    def net(self) -> nn.Module:
        return self.pixel.net

    @property
    def in_channels(self) -> int:
        return self.pixel.in_channels

    @property
    def conversion(self) -> str:
        return self.pixel.conversion

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return self.pixel.normalize(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pixel(x))


def scored_model(model, target, x: torch.Tensor | None = None):
    """``model`` (a detector or segmenter) seen through ``target``: a classifier-like
    :class:`~workbench.core.models.loaded.LoadedModel` whose class ``target.label`` is the
    target's score.  A :class:`RegionTarget` without a mask needs the clean input ``x``."""
    if model.task == DETECTION:
        if not isinstance(target, DetectionTarget):
            raise InputError(f"{model.name} is a detector: pick one detection as the target")
        check_label(model, target.label)
        head = DetectionScores(target, model.num_classes)
        labels, multi = [*model.labels, NOTHING], True
    elif model.task == SEGMENTATION:
        if not isinstance(target, RegionTarget):
            raise InputError(f"{model.name} is a segmenter: pick a class (and a region) as "
                             "the target")
        check_label(model, target.label)
        head = RegionScores(region_mask(model, target, x), target.label)
        labels, multi = list(model.labels), False
    else:
        return model
    module = ScoredModule(model.module, head.to(model.device))
    return dataclasses.replace(model, module=module, labels=labels, multi_label=multi,
                               task=CLASSIFICATION,
                               extras={**model.extras, "target": target.describe(model.labels),
                                       "dense_task": model.task})


def check_label(model, label: int) -> None:
    if not 0 <= int(label) < model.num_classes:
        raise InputError(f"class {label} is outside 0 … {model.num_classes - 1} "
                         f"of {model.name}")


def region_mask(model, target: RegionTarget, x: torch.Tensor | None) -> torch.Tensor:
    """The region as a bool tensor at the model input's size (the predicted region of the
    class on ``x`` when the target has no mask); a clear error when it is empty."""
    if target.mask is not None:
        mask = torch.as_tensor(np.asarray(target.mask, dtype=bool), device=model.device)
        if tuple(mask.shape) != tuple(model.input_size):
            raise InputError(f"the region is {tuple(mask.shape)} but the model input is "
                             f"{tuple(model.input_size)}")
    else:
        if x is None:
            raise InputError("the predicted region of a class needs the input image")
        with torch.inference_mode():
            logits = model.module(x[:1])
        mask = logits[0].argmax(0) == int(target.label)
        if tuple(mask.shape) != tuple(model.input_size):
            mask = nn.functional.interpolate(mask[None, None].float(), size=model.input_size,
                                             mode="nearest")[0, 0].bool()
    if not bool(mask.any()):
        raise InputError(f"the region of {model.label(target.label)} is empty: the model "
                         "labels no pixel with it; draw a region or pick another class")
    return mask
