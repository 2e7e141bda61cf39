"""Box identities across video frames: IoU matching with the Hungarian algorithm.

Each frame's detections are matched to the live tracks by maximum total IoU
(``scipy.optimize.linear_sum_assignment`` on ``1 − IoU``), only within the same class
and only at IoU ≥ ``iou_threshold``; a track's box is predicted one frame ahead at its
recent velocity, so a moving object still overlaps its track.  A detection left over
starts a new track (a new id); a track that finds no detection is kept alive for
``max_missed`` frames, then dropped — the SORT recipe without a Kalman filter (Bewley
et al., "Simple Online and Realtime Tracking", 2016, https://arxiv.org/abs/1602.00763).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

IOU_THRESHOLD = 0.3
MAX_MISSED = 5
VELOCITY_SMOOTHING = 0.5  # weight of the newest displacement in the velocity estimate


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(len(a), len(b))`` IoU of xyxy boxes."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


@dataclass
class Track:
    id: int
    label: int
    box: np.ndarray  # the last matched box
    velocity: np.ndarray  # per-frame displacement of the box's edges
    missed: int = 0
    hits: int = 1

    def predicted(self) -> np.ndarray:
        return self.box + self.velocity * (self.missed + 1)


class IoUTracker:
    """Feed it one frame at a time with :meth:`update`; it returns that frame's ids."""

    def __init__(self, iou_threshold: float = IOU_THRESHOLD, max_missed: int = MAX_MISSED):
        self.iou_threshold = float(iou_threshold)
        self.max_missed = int(max_missed)
        self.tracks: list[Track] = []
        self.next_id = 1

    def update(self, boxes, labels) -> np.ndarray:
        """``(D,)`` int64 track ids of a frame's ``boxes`` ``(D, 4)`` and ``labels``."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        labels = np.asarray(labels, np.int64).reshape(-1)
        ids = np.full(len(boxes), -1, np.int64)
        matched_tracks: set[int] = set()
        if self.tracks and len(boxes):
            predicted = np.stack([t.predicted() for t in self.tracks])
            iou = iou_matrix(predicted, boxes)
            same = np.array([t.label for t in self.tracks])[:, None] == labels[None, :]
            iou = np.where(same, iou, 0.0)
            rows, cols = linear_sum_assignment(1.0 - iou)
            for r, c in zip(rows, cols, strict=True):
                if iou[r, c] >= self.iou_threshold:
                    self._matched(self.tracks[r], boxes[c])
                    ids[c] = self.tracks[r].id
                    matched_tracks.add(r)
        for r, track in enumerate(self.tracks):
            if r not in matched_tracks:
                track.missed += 1
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]
        for c in np.flatnonzero(ids < 0):
            track = Track(self.next_id, int(labels[c]), boxes[c].copy(), np.zeros(4))
            self.next_id += 1
            self.tracks.append(track)
            ids[c] = track.id
        return ids

    @staticmethod
    def _matched(track: Track, box: np.ndarray) -> None:
        step = (box - track.box) / (track.missed + 1)
        track.velocity = VELOCITY_SMOOTHING * step + (1 - VELOCITY_SMOOTHING) * track.velocity
        track.box = box.copy()
        track.missed = 0
        track.hits += 1


def track_detections(sequence, threshold: float | None = None,
                     iou_threshold: float = IOU_THRESHOLD,
                     max_missed: int = MAX_MISSED) -> list[np.ndarray]:
    """Track ids for each frame's :class:`~workbench.core.tasks.detection.Detections` of
    ``sequence`` (in frame order), one ``(D,)`` array per frame aligned with its detections;
    a detection below ``threshold`` gets ``-1`` and takes no part."""
    tracker = IoUTracker(iou_threshold, max_missed)
    out = []
    for detections in sequence:
        keep = np.ones(len(detections), bool) if threshold is None else \
            np.asarray(detections.scores) >= threshold
        ids = np.full(len(detections), -1, np.int64)
        ids[keep] = tracker.update(detections.original_boxes()[keep], detections.labels[keep])
        out.append(ids)
    return out
