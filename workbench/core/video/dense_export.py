"""The annotated video of a detector or a segmenter: every frame of a range with its boxes
(and track ids) or its class map burned in by :mod:`workbench.io.annotate`, encoded with
PyAV (:func:`workbench.io.video_write.write_video`).  Frames already computed are reused;
the others run through the model in batches as they are decoded."""

from __future__ import annotations

import numpy as np

from workbench.core.jobs import JobContext, PlainContext
from workbench.core.video.dense import DEFAULT_BATCH, DETECTION, check_dense, dense_batch


def annotate_frame(picture: np.ndarray, result, threshold: float = 0.5, track_ids=None,
                   alpha: float = 0.5, tags: bool = True) -> np.ndarray:
    """One frame (uint8 or float) with a ``Detections`` or ``Segmentation`` drawn on it
    (``tags``: class, score and id written by each box)."""
    from workbench.io.annotate import draw_detections, draw_segmentation

    if hasattr(result, "boxes"):
        return draw_detections(picture, result, track_ids, threshold=threshold, tags=tags)
    return draw_segmentation(picture, result, alpha)


def write_dense_video(out, path, model, threshold: float = 0.5, track: bool = False,
                      known: dict | None = None, start: int = 0, stop: int | None = None,
                      alpha: float = 0.5, batch_size: int = DEFAULT_BATCH,
                      ctx: JobContext | None = None) -> str:
    """Write frames ``start`` … ``stop`` (exclusive; default: to the end) of ``path`` with
    ``model``'s drawings to ``out`` (MP4 or GIF) at the video's rate; ``track`` draws track
    ids (IoU tracking over the frames in order).  Returns ``out``."""
    from workbench.core.tasks.tracking import IoUTracker
    from workbench.io.video import VideoReader
    from workbench.io.video_write import write_video

    ctx = ctx or PlainContext()
    check_dense(model)
    known = known or {}
    with VideoReader(path, cache_mb=1) as reader:
        fps, count = reader.info.fps, reader.info.frame_count
    stop = count if stop is None else min(int(stop), count)
    indices = list(range(max(0, int(start)), stop))
    tracker = IoUTracker() if track and model.task == DETECTION else None

    def frames():
        with VideoReader(path, cache_mb=1) as reader, \
                reader.batches(indices, batch_size) as batches:
            for chunk, pictures in batches:
                ctx.check()
                missing = [n for n, i in enumerate(chunk) if int(i) not in known]
                computed = dict(zip(missing, dense_batch(model, pictures[missing]), strict=True)) \
                    if missing else {}
                for n, index in enumerate(chunk):
                    result = computed[n] if n in computed else known[int(index)]
                    ids = None
                    if tracker is not None:
                        keep = result.scores >= threshold
                        ids = np.full(len(result), -1, np.int64)
                        ids[keep] = tracker.update(result.original_boxes()[keep],
                                                   result.labels[keep])
                    yield annotate_frame(pictures[n], result, threshold, ids, alpha)
                done = int(chunk[-1]) - indices[0] + 1
                ctx.progress(done / len(indices), f"Writing frame {done}/{len(indices)}")

    write_video(out, frames(), fps, ctx)
    return str(out)
