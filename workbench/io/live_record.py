"""The live page's MP4 recorder, Qt-free: frames appended as they come, encoded on their
own thread, each keeping its capture time (split from :mod:`workbench.io.live`, which
still exports :class:`Recorder`)."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

RECORD_QUEUE = 64  # frames waiting for the encoder before new ones are dropped
MS = Fraction(1, 1000)


class Recorder:
    """Appends frames to an MP4 as they come, encoded on its own thread; each frame keeps
    its capture time (so the file plays at the real speed even when frames were skipped),
    the stream's nominal rate is ``fps``.  The file appears at ``path`` only on
    :meth:`close` (written to a temporary name, then renamed); :meth:`abort` discards it.

    A frame of another size than the first is resized; when the encoder falls
    ``RECORD_QUEUE`` frames behind, new frames are dropped (``dropped``)."""

    def __init__(self, path, fps: float, queue_frames: int = RECORD_QUEUE):
        self.path = Path(path)
        self.fps = float(fps) if fps and fps > 0 else 25.0
        self.written = self.dropped = 0
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=queue_frames)
        self._keep = True
        self._first: float | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="live-recorder", daemon=True)
        self._thread.start()

    def append(self, frame: np.ndarray, timestamp: float | None = None) -> bool:
        """Queue a ``(H, W, 3)`` uint8 frame; False when it was dropped (or closed)."""
        if self._closed or self.error is not None:
            return False
        stamp = time.monotonic() if timestamp is None else float(timestamp)
        try:
            self._queue.put_nowait((frame, stamp))
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def close(self) -> Path | None:
        """Finish the file; its path, or ``None`` when no frame was recorded.  Raises what
        the encoder raised."""
        self._finish(keep=True)
        if self.error is not None:
            raise self.error
        return self.path if self.written else None

    def abort(self) -> None:
        self._finish(keep=False)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *_exc):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False

    def _finish(self, keep: bool) -> None:
        if not self._closed:
            self._closed, self._keep = True, keep
        while self._thread.is_alive():  # the encoder takes the end marker (or has failed)
            with contextlib.suppress(queue.Full):
                self._queue.put(None, timeout=0.1)
                break
        self._thread.join()

    # -------------------------------------------------------------- thread
    def _run(self) -> None:
        from workbench.io.atomic import atomic_path

        try:
            first = self._queue.get()
            if first is None or not self._keep:
                return  # nothing recorded: no file, not even a temporary one
            with atomic_path(self.path) as tmp:
                self._encode(tmp, first)
                if not self._keep:
                    raise _Discard
        except _Discard:
            pass
        except BaseException as exc:  # noqa: BLE001 - reported by close()
            self.error = exc

    def _encode(self, tmp: Path, item) -> None:
        import av

        with av.open(str(tmp), "w", format="mp4") as container:
            stream, last = self._add_stream(container, item[0]), -1
            while item is not None:
                frame, stamp = item
                if self._keep:
                    picture = self._video_frame(frame, stream)
                    last = picture.pts = max(last + 1, self._pts(stamp))
                    for packet in stream.encode(picture):
                        container.mux(packet)
                    self.written += 1
                item = self._queue.get()
            for packet in stream.encode():
                container.mux(packet)

    def _add_stream(self, container, frame: np.ndarray):
        from workbench.io.video_write import encoder_for, even

        codec, pix_fmt = encoder_for(".mp4")
        options = {"preset": "veryfast"} if codec == "libx264" else {}  # keeps up with a camera
        stream = container.add_stream(codec, rate=Fraction(self.fps).limit_denominator(1001),
                                      options=options)
        stream.height, stream.width = even(frame).shape[:2]
        stream.pix_fmt = pix_fmt
        stream.time_base = MS
        stream.codec_context.time_base = MS
        return stream

    def _video_frame(self, frame: np.ndarray, stream):
        import av

        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame, np.uint8),
                                             format="rgb24")
        if (picture.width, picture.height) != (stream.width, stream.height):
            picture = picture.reformat(width=stream.width, height=stream.height)
        picture.time_base = MS
        return picture

    def _pts(self, stamp: float) -> int:
        if self._first is None:
            self._first = stamp
        return int(round((stamp - self._first) * 1000))


class _Discard(Exception):
    """Nothing to keep: the temporary file goes."""
