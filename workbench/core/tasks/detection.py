"""What a detector finds in one picture, in the model input's and the original image's
pixels.

The picture reaches a detector whole, resized to the model's input size (crop mode
``squash``: no crop, so every box maps back by a scale per axis).  A box's coordinates
are continuous pixel edges: ``x`` in the input is ``x * W / w`` in an original ``W`` wide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from workbench.core.jobs import JobContext, PlainContext
from workbench.core.preprocess import model_input
from workbench.core.tasks.names import DEFAULT_THRESHOLD
from workbench.errors import InputError


@dataclass
class Detections:
    """One picture's detections above ``threshold``, best first.

    ``boxes`` ``(D, 4)`` xyxy in model-input pixels; ``masks`` ``(D, h, w)`` soft masks in
    [0, 1] at the input's size (Mask R-CNN) or ``None``; ``keypoints`` ``(D, P, 3)`` or
    ``None``.  ``input_size`` and ``image_size`` are ``(h, w)`` of the model input and of
    the original picture.
    """

    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    label_names: list[str]
    input_size: tuple[int, int]
    image_size: tuple[int, int]
    threshold: float = DEFAULT_THRESHOLD
    masks: np.ndarray | None = None
    keypoints: np.ndarray | None = None
    extras: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.scores)

    def original_boxes(self) -> np.ndarray:
        """``boxes`` in the original picture's pixels."""
        return scale_boxes(self.boxes, self.input_size, self.image_size)

    def as_rows(self) -> list[dict]:
        """One dict per detection (original pixels): ``x0, y0, x1, y1, label, score``."""
        rows = []
        for index, (box, label, score) in enumerate(
                zip(self.original_boxes(), self.labels, self.scores, strict=True)):
            rows.append({"index": index, "x0": float(box[0]), "y0": float(box[1]),
                         "x1": float(box[2]), "y1": float(box[3]),
                         "label": self.label_names[int(label)], "class": int(label),
                         "score": float(score)})
        return rows

    def subset(self, keep: np.ndarray) -> Detections:
        """The detections where ``keep`` is true (same order)."""
        keep = np.asarray(keep, dtype=bool)
        return Detections(
            self.boxes[keep], self.labels[keep], self.scores[keep], self.label_names,
            self.input_size, self.image_size, self.threshold,
            None if self.masks is None else self.masks[keep],
            None if self.keypoints is None else self.keypoints[keep], dict(self.extras))


def scale_boxes(boxes: np.ndarray, from_size, to_size) -> np.ndarray:
    """xyxy boxes from a ``from_size`` ``(h, w)`` picture to the same picture resized to
    ``to_size``."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    sy, sx = to_size[0] / from_size[0], to_size[1] / from_size[1]
    return (boxes * np.array([sx, sy, sx, sy])).astype(np.float32)


def raw_detections(model, x: torch.Tensor) -> list[dict]:
    """The detector's own output dicts for a batch ``x`` of pixels, without a graph."""
    with torch.inference_mode():
        return model.module(x)


def to_detections(det: dict, model, image_size, threshold: float, classes=None) -> Detections:
    """One output dict → :class:`Detections` above ``threshold`` (and of ``classes`` when
    given), best first."""
    scores = det["scores"].detach().float().cpu().numpy()
    labels = det["labels"].detach().cpu().numpy().astype(np.int64)
    keep = scores >= threshold
    if classes is not None:
        keep &= np.isin(labels, list(classes))
    order = np.argsort(-scores[keep], kind="stable")
    pick = np.flatnonzero(keep)[order]
    masks = det.get("masks")
    points = det.get("keypoints")
    return Detections(
        det["boxes"].detach().float().cpu().numpy()[pick].reshape(-1, 4), labels[pick],
        scores[pick], list(model.labels), tuple(model.input_size), tuple(image_size),
        threshold,
        None if masks is None else masks.detach().float().cpu().numpy()[pick][:, 0],
        None if points is None else points.detach().float().cpu().numpy()[pick])


def detect(model, image: np.ndarray, threshold: float = DEFAULT_THRESHOLD, classes=None,
           ctx: JobContext | None = None) -> Detections:
    """The detections of ``model`` on an ``(H, W, 3)`` picture (the Predict tab's job)."""
    ctx = ctx or PlainContext()
    check_detector(model)
    if not 0.0 <= threshold <= 1.0:
        raise InputError(f"the score threshold must be in [0, 1], not {threshold}")
    ctx.progress(0.1, f"Detecting with {model.name}")
    x = model_input(model, image)
    (det,) = raw_detections(model, x)
    ctx.check()
    ctx.progress(1.0, "Detected")
    return to_detections(det, model, image.shape[:2], threshold, classes)


def detect_batch(model, x: torch.Tensor, image_size, threshold: float = DEFAULT_THRESHOLD,
                 classes=None) -> list[Detections]:
    """Detections for a batch of model-input pixels (video frames) of one original size."""
    return [to_detections(det, model, image_size, threshold, classes)
            for det in raw_detections(model, x)]


def check_detector(model) -> None:
    from workbench.core.models.task_outputs import DETECTION

    if model.task != DETECTION:
        raise InputError(f"{model.name} is not a detector (its task: {model.task})")
