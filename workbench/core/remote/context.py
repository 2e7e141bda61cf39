"""The job context on a Dask worker (DESIGN.md §12).

``check()`` reads a ``distributed.Event`` named per job — at most one scheduler round trip
per :data:`CHECK_INTERVAL_S`, so a job that checks often costs nothing and Cancel still
arrives within a second.  ``progress()`` and ``partial()`` go back to the caller through a
``distributed.Queue`` named per job; the last message is always :data:`END`.
"""

from __future__ import annotations

import pickle
import time
from typing import Any

from workbench.core.jobs import JobContext

CHECK_INTERVAL_S = 0.1
PROGRESS_INTERVAL_S = 0.05
PROGRESS, PARTIAL, END = "progress", "partial", "end"


def cancel_name(job_id: str) -> str:
    return f"workbench-cancel-{job_id}"


def queue_name(job_id: str) -> str:
    return f"workbench-events-{job_id}"


def pack(kind: str, *payload) -> bytes:
    """A message as bytes: the scheduler only stores and forwards it."""
    return pickle.dumps((kind, *payload), protocol=pickle.HIGHEST_PROTOCOL)


def unpack(message: bytes) -> tuple:
    return pickle.loads(message)


class DistributedFlag:
    """A cancel flag over a ``distributed.Event`` with a throttled ``is_set`` (the same
    interface as ``threading.Event``, so sub-contexts sharing it work unchanged)."""

    def __init__(self, name: str, interval_s: float = CHECK_INTERVAL_S):
        from distributed import Event

        self._event = Event(name)
        self._interval = interval_s
        self._last = time.monotonic()  # a fresh job is not cancelled: first read later
        self._set = False
        self.reads = 0

    def is_set(self) -> bool:
        if self._set:
            return True
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self.reads += 1
            self._set = bool(self._event.is_set())
        return self._set

    def set(self) -> None:
        self._set = True
        self._event.set()

    def clear(self) -> None:
        self._set = False
        self._event.clear()


class RemoteContext(JobContext):
    """The context a job runs with inside the actor."""

    def __init__(self, job_id: str):
        from distributed import Queue

        super().__init__(cancel_event=DistributedFlag(cancel_name(job_id)))
        self._queue = Queue(queue_name(job_id))
        self._last_progress = 0.0

    def progress(self, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_INTERVAL_S or fraction >= 1.0:
            self._last_progress = now
            self._queue.put(pack(PROGRESS, min(1.0, max(0.0, float(fraction))), message))

    def partial(self, result: Any) -> None:
        from workbench.core.remote.refs import portable

        if not self.cancelled:
            self._queue.put(pack(PARTIAL, portable(result)))

    def end(self) -> None:
        """Tell the caller that nothing more comes (always the last message)."""
        self._queue.put(pack(END))
        self._queue.close()  # the caller's handle keeps the queue until it has read it
