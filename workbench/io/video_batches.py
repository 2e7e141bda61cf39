"""Batches of video frames decoded ahead, on a plain thread with a bounded queue, while the
caller runs the model on the previous batch (see :meth:`VideoReader.batches`)."""

from __future__ import annotations

import queue
import threading

import numpy as np

from workbench.io.video import VideoReader

SMALL_FRAME_PIXELS = 1_000_000  # below this one decoding thread keeps up with the model


def decode_threads(path) -> int:
    """Decoding threads for a batch reader feeding a model: one for small frames (the model
    keeps the other cores), FFmpeg's choice for HD, where decoding is the bottleneck."""
    import av

    try:
        with av.open(str(path)) as container:
            context = container.streams.video[0].codec_context
            return 1 if context.width * context.height < SMALL_FRAME_PIXELS else 0
    except (av.FFmpegError, IndexError, OSError):
        return 0


class PrefetchingBatches:
    """An iterator over batches of frames decoded ahead by a plain thread and a bounded
    queue (its own reader, so the caller's reader is never shared across threads)."""

    _DONE = object()

    def __init__(self, path, indices, batch_size: int, prefetch: int, max_side: int,
                 threads: int | None = None):
        self.indices, self.batch_size = indices, max(1, int(batch_size))
        self.queue: queue.Queue = queue.Queue(maxsize=max(1, prefetch))
        self.stop = threading.Event()
        self.threads = decode_threads(path) if threads is None else threads
        self.thread = threading.Thread(target=self._run, args=(path, max_side),
                                       name="workbench-video-decode", daemon=True)
        self.thread.start()

    def _run(self, path, max_side) -> None:
        try:
            with VideoReader(path, cache_mb=8, max_side=max_side, keep_passed=False,
                             threads=self.threads) as reader:
                for start in range(0, len(self.indices), self.batch_size):
                    if self.stop.is_set():
                        return
                    chunk = self.indices[start: start + self.batch_size]
                    frames = np.stack([reader.frame_uint8(i) for i in chunk])
                    self._put((chunk, frames))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._put(exc)
        finally:
            self._put(self._DONE)

    def _put(self, item) -> None:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __iter__(self):
        return self

    def __next__(self):
        item = self.queue.get()
        if item is self._DONE:
            raise StopIteration
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2.0)

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()
        return False
