"""Live frames, Qt-free: a one-slot mailbox where the latest frame wins, a video file
played as if it were a camera, the scheduling of one model job at a time over a stream of
frames, and (from :mod:`workbench.io.live_record`) an MP4 recorder that appends frames
as they come.

Nothing here ever queues stale frames: a producer faster than its consumer replaces the
frame not yet taken (counting it as dropped), so what the consumer gets next is always
the newest one.  Times are ``time.monotonic()`` seconds, taken when a frame is captured.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from workbench.io.live_record import MS, RECORD_QUEUE, Recorder  # the recorder lives there

log = logging.getLogger(__name__)
STOP_JOIN_S = 1.0
FPS_WINDOW_S = 3.0
LATENCY_HISTORY = 10_000


class Captured(NamedTuple):
    """A frame and the ``time.monotonic()`` second it was captured."""

    frame: Any
    time: float


# ------------------------------------------------------------------- mailbox
class LatestFrame:
    """A thread-safe one-slot mailbox: ``put`` replaces a frame not yet taken (counted in
    ``dropped``); ``take`` returns the latest :class:`Captured` (or ``None``)."""

    def __init__(self):
        self._cond = threading.Condition()
        self._slot: Captured | None = None
        self.received = self.taken = self.dropped = 0
        self.closed = False

    def put(self, frame, timestamp: float | None = None) -> None:
        stamp = time.monotonic() if timestamp is None else float(timestamp)
        with self._cond:
            if self._slot is not None:
                self.dropped += 1
            self._slot = Captured(frame, stamp)
            self.received += 1
            self._cond.notify_all()

    def take(self, timeout: float = 0.0) -> Captured | None:
        """The latest frame, emptying the slot; waits up to ``timeout`` s for one."""
        with self._cond:
            if self._slot is None and timeout > 0 and not self.closed:
                self._cond.wait_for(lambda: self._slot is not None or self.closed, timeout)
            captured, self._slot = self._slot, None
            if captured is not None:
                self.taken += 1
            return captured

    def close(self) -> None:
        """No more frames will come: wake a consumer waiting in :meth:`take`."""
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def reopen(self) -> None:
        with self._cond:
            self.closed = False


# -------------------------------------------------------------- file source
class FileFrameSource:
    """Plays a video file on its own thread as a camera would: at the file's frame rate
    (``realtime``), over and over (``loop``), each frame stamped when it is decoded.

    Frames go to ``sink``: a :class:`LatestFrame` (default: a new one, ``self.frames``)
    or a callable ``sink(frame, timestamp)``.  When decoding falls behind real time the
    frames already past are skipped (``late``), never delivered late.  A file that cannot
    be opened or decoded sets ``error`` (and calls ``on_error(message)``)."""

    def __init__(self, path, realtime: bool = True, loop: bool = True, sink=None,
                 on_error: Callable[[str], None] | None = None):
        self.path = Path(path)
        self.realtime, self.loop = realtime, loop
        self.frames = sink if isinstance(sink, LatestFrame) else LatestFrame()
        self._deliver = sink if callable(sink) else self.frames.put
        self.on_error = on_error
        self.info = None  # VideoInfo, once the file is open
        self.error: str | None = None
        self.sent = self.late = 0
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- API
    def start(self) -> FileFrameSource:
        if self.running:
            return self
        self._stop.clear()
        self._ready.clear()
        self.error = None
        self.frames.reopen()
        self._thread = threading.Thread(target=self._run, name=f"live-{self.path.name}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = STOP_JOIN_S) -> bool:
        """Stop and join the thread; True when it ended within ``timeout`` seconds."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return not self.running

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def fps(self) -> float:
        return self.info.fps if self.info is not None else 0.0

    def wait_ready(self, timeout: float = 5.0):
        """The file's ``VideoInfo`` once it is open (``None`` if it failed or timed out)."""
        self._ready.wait(timeout)
        return self.info

    def __enter__(self):
        return self.start()

    def __exit__(self, *_exc):
        self.stop()
        return False

    # -------------------------------------------------------------- thread
    def _run(self) -> None:
        from workbench.io.video import VideoReader

        try:
            with VideoReader(self.path, cache_mb=1, keep_passed=False, threads=1) as reader:
                self.info = reader.info
                self._ready.set()
                self._play(reader)
        except Exception as exc:  # noqa: BLE001 - a broken file is a message, not a crash
            self.error = str(exc) or type(exc).__name__
            log.warning("live source %s stopped: %s", self.path, self.error)
            if self.on_error is not None:
                self.on_error(self.error)
        finally:
            self._ready.set()
            self.frames.close()

    def _play(self, reader) -> None:
        count, span = len(reader), max(reader.info.duration, 1e-3)
        base, index = time.monotonic(), 0
        while not self._stop.is_set():
            if self.realtime:
                index, base = self._catch_up(reader, index, base, span)
                if self._stop.wait(max(0.0, base + reader.time_of(index) - time.monotonic())):
                    return
            frame = reader.frame_uint8(index)
            self._deliver(frame, time.monotonic())
            self.sent += 1
            index += 1
            if index >= count:
                if not self.loop:
                    return
                index, base = 0, base + span

    def _catch_up(self, reader, index: int, base: float, span: float) -> tuple[int, float]:
        """Skip to the frame real time has reached (a whole lap behind: start the lap now)."""
        elapsed = time.monotonic() - base
        if elapsed >= span:
            self.late += len(reader) - index
            return 0, time.monotonic()
        due = reader.index_at(elapsed)
        if due > index:
            self.late += due - index
            index = due
        return index, base


# ---------------------------------------------------------------- scheduler
class LiveScheduler:
    """The consumer's side of a live stream: at most one job in flight, at most one frame
    waiting (the newest; an older waiting frame is dropped).  No threads, no clock of its
    own: the caller passes the times.

    ``offer(frame, t)`` returns the frame to run now, or ``None`` when a job is in flight
    (the frame then waits).  ``finished(t_done)`` records the latency of the frame in
    flight (``t_done`` − its capture time) and returns the waiting frame to run next."""

    def __init__(self, window_s: float = FPS_WINDOW_S, history: int = LATENCY_HISTORY):
        self.window_s = window_s
        self._running: Captured | None = None
        self._pending: Captured | None = None
        self._recent: deque[tuple[float, float]] = deque()  # (t_done, latency) in window
        self._latencies: deque[float] = deque(maxlen=history)
        self.offered = self.started = self.done = self.failed = self.dropped = 0

    @property
    def busy(self) -> bool:
        return self._running is not None

    @property
    def pending(self) -> Captured | None:
        return self._pending

    @property
    def in_flight(self) -> Captured | None:
        return self._running

    def offer(self, frame, t: float):
        self.offered += 1
        if self._running is None:
            return self._launch(Captured(frame, float(t)))
        if self._pending is not None:
            self.dropped += 1
        self._pending = Captured(frame, float(t))
        return None

    def finished(self, t_done: float, ok: bool = True):
        """The job in flight ended (``ok``: with a result, whose latency counts)."""
        running, self._running = self._running, None
        if running is not None and ok:
            self._record(float(t_done), float(t_done) - running.time)
        elif running is not None:
            self.failed += 1
        waiting, self._pending = self._pending, None
        return None if waiting is None else self._launch(waiting)

    def reset(self) -> None:
        """Forget the frame in flight and the waiting one (after Stop or a model change)."""
        if self._pending is not None:
            self.dropped += 1
        self._running = self._pending = None

    def _launch(self, captured: Captured):
        self._running = captured
        self.started += 1
        return captured.frame

    def _record(self, t_done: float, latency: float) -> None:
        self.done += 1
        self._latencies.append(latency)
        self._recent.append((t_done, latency))
        while self._recent and self._recent[0][0] < t_done - self.window_s:
            self._recent.popleft()

    # ------------------------------------------------------------------ stats
    def fps(self, now: float | None = None) -> float:
        """Finished predictions a second over the last ``window_s`` seconds (0 when none
        finished within the window before ``now``)."""
        recent = self._recent
        if len(recent) < 2 or (now is not None and now - recent[-1][0] > self.window_s):
            return 0.0
        span = recent[-1][0] - recent[0][0]
        return (len(recent) - 1) / span if span > 0 else 0.0

    def latencies(self) -> list[float]:
        """Every latency kept (seconds, oldest first; the last ``history`` of them)."""
        return list(self._latencies)

    def latency(self, percentile: float | None = None, recent: bool = True) -> float:
        """Mean latency in seconds (or its ``percentile``), over the window or everything
        kept (``recent=False``); NaN before the first result."""
        values = [v for _t, v in self._recent] if recent else list(self._latencies)
        if not values:
            return float("nan")
        if percentile is None:
            return float(np.mean(values))
        return float(np.percentile(values, percentile))


def stats_text(fps: float, latency_s: float, dropped: int) -> str:
    """``12.3 fps · latency 85 ms · dropped 40``."""
    latency = "–" if not np.isfinite(latency_s) else f"{latency_s * 1000:.0f} ms"
    return f"{fps:.1f} fps · latency {latency} · dropped {dropped}"


__all__ = ["MS", "RECORD_QUEUE", "Captured", "FileFrameSource", "LatestFrame",
           "LiveScheduler", "Recorder", "stats_text"]
