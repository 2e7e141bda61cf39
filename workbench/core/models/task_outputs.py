"""What a detector's or a segmenter's forward returns, checked once when it loads.

A **detector** (torchvision's detection models, ``digits_detector``) returns one dict per
image in torchvision's format: ``boxes`` ``(D, 4)`` xyxy in input pixels, ``labels``
``(D,)``, ``scores`` ``(D,)`` (and ``masks`` ``(D, 1, H, W)`` for Mask R-CNN, ``keypoints``
for Keypoint R-CNN).  A **segmenter** returns per-pixel class scores ``(N, K, H, W)``, or a
dict holding them (torchvision's ``{"out": …, "aux": …}``: the part named by the zoo).
"""

from __future__ import annotations

import torch

from workbench.core.models.outputs import named_outputs, pick_output
from workbench.core.tasks.names import CLASSIFICATION, DETECTION, SEGMENTATION, TASKS
from workbench.errors import ModelLoadError

__all__ = ["CLASSIFICATION", "DETECTION", "SEGMENTATION", "TASKS"]
DETECTION_KEYS = ("boxes", "labels", "scores")


def check_detections(out, batch: int, name: str) -> None:
    """Raise a clear error unless ``out`` is ``batch`` detection dicts."""
    ok = isinstance(out, (list, tuple)) and len(out) == batch and all(
        isinstance(d, dict) and all(k in d for k in DETECTION_KEYS) for d in out)
    if not ok:
        got = type(out).__name__
        raise ModelLoadError(f"Detector {name} returns {got}; a detector must return one dict "
                             f"of {', '.join(DETECTION_KEYS)} per image")


def segmentation_output(pixel_model, out, wanted: str | None, name: str) -> torch.Tensor:
    """The ``(N, K, H, W)`` class scores among ``out`` (``wanted`` names the part of a dict,
    tuple or object; else ``out`` itself, or its first 4-D part), set on ``pixel_model``."""
    if not isinstance(out, torch.Tensor):
        parts = named_outputs(out)
        if wanted is None:
            wanted = next((k for k, v in parts
                           if isinstance(v, torch.Tensor) and v.ndim == 4), None)
        if wanted is None:
            raise ModelLoadError(f"Segmenter {name} returns no (N, classes, H, W) output "
                                 f"(found {', '.join(k for k, _ in parts) or 'nothing'})")
        pixel_model.output = wanted
        out = pick_output(out, wanted)
    if out.ndim != 4:
        raise ModelLoadError(f"Segmenter {name} returns {tuple(out.shape)}; a segmenter must "
                             "return (N, classes, H, W)")
    return out


def output_count(pixel_model, out, task: str, shape, wanted, name: str) -> int:
    """How many labels the output of a dense ``task`` model needs (``-1``: any; a detector's
    labels come from its zoo)."""
    if task == DETECTION:
        check_detections(out, shape[0], name)
        return -1
    if task == SEGMENTATION:
        return segmentation_output(pixel_model, out, wanted, name).shape[1]
    raise ModelLoadError(f"unknown task '{task}' (one of {', '.join(TASKS)})")
