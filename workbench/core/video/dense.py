"""Detection or segmentation on a video's frames, in batches, with the frames decoded ahead
on their own thread (:meth:`workbench.io.video.VideoReader.batches`).

Results are keyed by frame index.  Each batch reaches ``ctx.partial`` as a
:class:`DenseFrames` holding only that batch's frames (merge them: a snapshot of every
frame so far would cost more than the model on a long video); the job returns all of
them.  ``known`` frames (already computed, e.g. while scrubbing) are skipped.  Detections
are kept at ``threshold`` (default 0: all the detector returns), so a score slider can
filter them later without running the model again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from workbench.core.jobs import JobContext, PlainContext
from workbench.core.preprocess import fit_to, resize_options
from workbench.errors import InputError

DETECTION, SEGMENTATION = "detection", "segmentation"
DENSE_TASKS = (DETECTION, SEGMENTATION)
DEFAULT_BATCH = 8


@dataclass
class DenseFrames:
    """Per-frame results of a dense model: ``frames[index]`` is a ``Detections`` or a
    ``Segmentation``; ``seconds`` the job's wall time so far, ``model_seconds`` the time
    in the model (forward and decoding of its outputs), both over ``counted`` frames."""

    task: str
    indices: np.ndarray  # every frame asked for, ascending
    frames: dict = field(default_factory=dict)
    done: int = 0  # frames of ``indices`` with a result (so far)
    counted: int = 0  # frames computed (not skipped) in this run
    seconds: float = 0.0
    model_seconds: float = 0.0

    @property
    def fps(self) -> float:
        """Frames a second through the whole job (decoding, model, results)."""
        return self.counted / self.seconds if self.seconds > 0 else float("nan")

    @property
    def model_fps(self) -> float:
        """Frames a second in the model alone."""
        return self.counted / self.model_seconds if self.model_seconds > 0 else float("nan")


def check_dense(model) -> None:
    if model.task not in DENSE_TASKS:
        raise InputError(f"{model.name} is a {model.task} model: per-frame boxes and masks "
                         "need a detector or a segmenter")
    if model.kind == "video":
        raise InputError(f"{model.name} is a clip model; per-frame detection needs an image "
                         "model")


def frames_to_dense_input(model, frames: np.ndarray) -> torch.Tensor:
    """``(B, H, W, 3)`` uint8 frames → the model's ``(B, 3, h, w)`` pixels, prepared as
    :func:`~workbench.core.preprocess.model_input` prepares one picture (a detector's
    ``squash``: the whole frame resized)."""
    batch = torch.from_numpy(np.ascontiguousarray(frames)).to(model.device)
    pixels = batch.permute(0, 3, 1, 2).float().div_(255.0)
    return fit_to(pixels, model.input_size, **resize_options(model))


def dense_batch(model, frames: np.ndarray, threshold: float = 0.0) -> list:
    """The model's results on ``(B, H, W, 3)`` uint8 frames of one size, one per frame."""
    image_size = frames.shape[1:3]
    x = frames_to_dense_input(model, frames)
    if model.task == DETECTION:
        from workbench.core.tasks.detection import detect_batch

        return detect_batch(model, x, image_size, threshold)
    return segment_batch(model, x, image_size)


def segment_batch(model, x: torch.Tensor, image_size) -> list:
    """:func:`~workbench.core.tasks.segmentation.to_segmentation` of a whole batch at once
    (the same operations, batched: per frame they cost as much as the forward), with the
    maps in the smallest integer type (a 1080p map is 16 MB in int64, 2 MB in uint8)."""
    from workbench.core.tasks.segmentation import (
        Segmentation,
        best_class,
        class_scores,
        upsampled_argmax,
    )

    logits = class_scores(model, x)
    kind = torch.uint8 if logits.shape[1] <= 256 else torch.int32
    with torch.inference_mode():
        confidence, class_map = best_class(logits)
        big = upsampled_argmax(logits, tuple(image_size))
    class_map, big = class_map.to(kind).cpu().numpy(), big.to(kind).cpu().numpy()
    confidence = confidence.cpu().numpy().astype(np.float32)
    labels = list(model.labels)
    return [Segmentation(class_map[i], big[i], confidence[i], labels) for i in range(len(x))]


def dense_frames(model, path, indices, batch_size: int = DEFAULT_BATCH,
                 threshold: float = 0.0, known=(), ctx: JobContext | None = None) -> DenseFrames:
    """Detections or segmentations of ``model`` on frames ``indices`` of the video at
    ``path`` (frames in ``known`` are skipped and count as done)."""
    from workbench.io.video import VideoReader

    ctx = ctx or PlainContext()
    check_dense(model)
    path = Path(path)
    indices = np.asarray(sorted({int(i) for i in indices}), np.int64)
    known = {int(i) for i in known}
    todo = [int(i) for i in indices if int(i) not in known]
    result = DenseFrames(model.task, indices, done=len(indices) - len(todo))
    started = time.perf_counter()
    with VideoReader(path, cache_mb=1) as reader, reader.batches(todo, batch_size) as batches:
        for chunk, frames in batches:
            ctx.check()
            before = time.perf_counter()
            outputs = dense_batch(model, frames, threshold)
            result.model_seconds += time.perf_counter() - before
            batch = dict(zip((int(i) for i in chunk), outputs, strict=True))
            result.frames.update(batch)
            result.done += len(chunk)
            result.counted += len(chunk)
            result.seconds = time.perf_counter() - started
            ctx.partial(DenseFrames(model.task, indices, batch, result.done, result.counted,
                                    result.seconds, result.model_seconds))
            ctx.progress(result.done / max(1, len(indices)),
                         f"Frames {result.done}/{len(indices)} · {result.fps:.1f} fps")
    result.seconds = time.perf_counter() - started
    return result


def one_frame(model, frame: np.ndarray, threshold: float = 0.0):
    """``(result, seconds in the model)`` for one ``(H, W, 3)`` uint8 frame (the player's
    on-demand request while scrubbing or playing)."""
    check_dense(model)
    before = time.perf_counter()
    (out,) = dense_batch(model, frame[None], threshold)
    return out, time.perf_counter() - before
