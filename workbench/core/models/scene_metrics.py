"""Detection and segmentation metrics: VOC-style AP / mAP and confusion-matrix IoU.

Detection follows PASCAL VOC (2010+): per class, detections of all images are
sorted by score; each is a true positive when its IoU with a not-yet-matched
ground-truth box of its class in its image is at least the threshold, and AP is
the area under the precision-recall curve with all-point interpolation
(precision made monotonically non-increasing).  mAP is the mean over the
classes that have ground truth.
"""

from __future__ import annotations

import numpy as np


def box_iou(a, b) -> np.ndarray:
    """IoU of every xyxy box in ``a`` (N, 4) with every one in ``b`` (M, 4) → (N, M)."""
    a, b = np.asarray(a, float).reshape(-1, 4), np.asarray(b, float).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-12)


def average_precision(scores, is_true_positive, num_ground_truth: int) -> float:
    """All-point interpolated AP of one class from its detections' scores and TP flags."""
    if num_ground_truth == 0:
        return float("nan")
    order = np.argsort(-np.asarray(scores, float), kind="stable")
    tp = np.asarray(is_true_positive, float)[order]
    true_cum, false_cum = np.cumsum(tp), np.cumsum(1 - tp)
    recall = np.concatenate([[0.0], true_cum / num_ground_truth, [1.0]])
    precision = np.concatenate([[0.0], true_cum / np.maximum(true_cum + false_cum, 1e-12),
                                [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.flatnonzero(recall[1:] != recall[:-1])
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))


def match_image(boxes, scores, gt_boxes, iou_threshold: float = 0.5) -> np.ndarray:
    """TP flags of one image's detections of one class, greedy by descending score."""
    flags = np.zeros(len(scores), bool)
    if len(scores) == 0 or len(gt_boxes) == 0:
        return flags
    ious = box_iou(boxes, gt_boxes)
    taken = np.zeros(len(gt_boxes), bool)
    for i in np.argsort(-np.asarray(scores, float), kind="stable"):
        candidates = np.where(taken, -1.0, ious[i])
        best = int(np.argmax(candidates))
        if candidates[best] >= iou_threshold:
            taken[best] = flags[i] = True
    return flags


def detection_map(predictions, ground_truths, num_classes: int = 10,
                  iou_threshold: float = 0.5) -> dict:
    """mAP and per-class AP.

    ``predictions``: per image a dict with ``boxes`` (D, 4), ``scores`` (D,), ``labels`` (D,);
    ``ground_truths``: per image a dict with ``boxes`` (K, 4) and ``labels`` (K,) (numpy or
    anything ``np.asarray`` takes).  Returns ``{"map": float, "per_class": [AP or None]}``;
    classes without ground truth are None and left out of the mean.
    """
    per_class = []
    for c in range(num_classes):
        scores, flags, count = [], [], 0
        for pred, gt in zip(predictions, ground_truths, strict=True):
            p_labels, g_labels = np.asarray(pred["labels"]), np.asarray(gt["labels"])
            p_boxes = np.asarray(pred["boxes"], float).reshape(-1, 4)[p_labels == c]
            p_scores = np.asarray(pred["scores"], float)[p_labels == c]
            g_boxes = np.asarray(gt["boxes"], float).reshape(-1, 4)[g_labels == c]
            count += len(g_boxes)
            scores.append(p_scores)
            flags.append(match_image(p_boxes, p_scores, g_boxes, iou_threshold))
        ap = average_precision(np.concatenate(scores), np.concatenate(flags), count)
        per_class.append(None if np.isnan(ap) else ap)
    valid = [ap for ap in per_class if ap is not None]
    return {"map": float(np.mean(valid)) if valid else float("nan"), "per_class": per_class}


def confusion_matrix(predicted, target, num_classes: int) -> np.ndarray:
    """``(C, C)`` counts, rows = true class, columns = predicted class, over all pixels."""
    predicted, target = np.asarray(predicted).ravel(), np.asarray(target).ravel()
    index = target.astype(np.int64) * num_classes + predicted.astype(np.int64)
    return np.bincount(index, minlength=num_classes**2).reshape(num_classes, num_classes)


def segmentation_scores(confusion) -> dict:
    """Per-class IoU = TP / (TP + FP + FN), mIoU over classes present in truth or prediction,
    and pixel accuracy, from a confusion matrix."""
    confusion = np.asarray(confusion, float)
    tp = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - tp
    iou = [float(t / u) if u > 0 else None for t, u in zip(tp, union, strict=True)]
    valid = [v for v in iou if v is not None]
    return {"miou": float(np.mean(valid)) if valid else float("nan"), "per_class_iou": iou,
            "pixel_accuracy": float(tp.sum() / max(confusion.sum(), 1.0))}
