"""A single long-lived worker thread that runs jobs one at a time.

``submit(fn, key=...)`` queues ``fn(ctx)``; a new job with the same key cancels
the previous one, and a per-key generation counter drops late results.  Public
signals carry the job id and arrive on the GUI thread in a strict order::

    started → (progressed | partial)* → finished | errored | cancelled

A job cancelled before it started emits only ``cancelled``.  Every job emits
exactly one of the three final signals.  Patterns from superqt's
``_qthreading.py`` (abort between steps), napari's layer slicer (supersede)
and Orange's ``TaskState`` (progress, partial results, interruption).
"""

from __future__ import annotations

import atexit
import itertools
import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal

from workbench.core.device import free_device_memory, is_out_of_memory
from workbench.core.jobs import JobContext
from workbench.errors import Cancelled, WorkbenchError

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 0.05  # at most 20 progress signals a second
# Threads that outlived shutdown(): kept referenced (a QThread destroyed while running
# aborts the process) and waited for at interpreter exit.
_ORPHANS: list[QThread] = []
ORPHAN_EXIT_WAIT_MS = 60_000


def _wait_for_orphans() -> None:
    for thread in _ORPHANS:
        thread.wait(ORPHAN_EXIT_WAIT_MS)


atexit.register(_wait_for_orphans)


def orphans_running() -> bool:
    """True if a worker thread is still inside a job that ignored cancellation."""
    return any(thread.isRunning() for thread in _ORPHANS)


@dataclass(eq=False)
class JobHandle:
    """What ``submit`` returns: the job's id and a way to cancel it."""

    id: int
    name: str
    key: str | None
    fn: Callable[[JobContext], Any]
    callbacks: dict = field(default_factory=dict)
    cancel_event: threading.Event = field(default_factory=threading.Event)
    state: str = "pending"  # pending → running → done

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def cancel(self) -> None:
        self.cancel_event.set()


class _WorkerContext(JobContext):
    """Context whose callbacks cross to the GUI thread through queued signals."""

    def __init__(self, runner: Runner, handle: JobHandle):
        super().__init__(cancel_event=handle.cancel_event)
        self._runner, self._handle, self._last = runner, handle, 0.0

    def progress(self, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if now - self._last >= PROGRESS_INTERVAL_S or fraction >= 1.0:
            self._last = now
            self._runner._sig_progress.emit(self._handle.id, float(fraction), message)

    def partial(self, result: Any) -> None:
        if not self._handle.cancelled:
            self._runner._sig_partial.emit(self._handle.id, result)


class _Thread(QThread):
    def __init__(self, runner: Runner, name: str):
        super().__init__()
        self.setObjectName(name)
        self._runner = runner
        self.jobs: queue.Queue[JobHandle | None] = queue.Queue()

    def run(self) -> None:
        while (handle := self.jobs.get()) is not None:
            self._runner._execute(handle)


class Runner(QObject):
    """The background job runner.  Create it on the GUI thread."""

    started = Signal(int)
    progressed = Signal(int, float, str)
    partial = Signal(int, object)
    finished = Signal(int, object)
    errored = Signal(int, str)
    cancelled = Signal(int)
    busy_changed = Signal(bool)

    _sig_started = Signal(int)
    _sig_progress = Signal(int, float, str)
    _sig_partial = Signal(int, object)
    _sig_done = Signal(int, object)
    _sig_error = Signal(int, str)
    _sig_cancelled = Signal(int)

    def __init__(self, name: str = "workbench-worker", parent: QObject | None = None):
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._handles: dict[int, JobHandle] = {}
        self._latest: dict[str, int] = {}
        self._closed = False
        self.last_error_details = ""
        self._backend = None  # a RemoteBackend while jobs run on a cluster (worker/remote.py)
        queued = Qt.ConnectionType.QueuedConnection
        self._sig_started.connect(self._relay_started, queued)
        self._sig_progress.connect(self._relay_progress, queued)
        self._sig_partial.connect(self._relay_partial, queued)
        self._sig_done.connect(self._relay_done, queued)
        self._sig_error.connect(self._relay_error, queued)
        self._sig_cancelled.connect(self._relay_cancelled, queued)
        self._thread = _Thread(self, name)
        self._thread.start()

    # ----------------------------------------------------------------- API
    def submit(
        self,
        fn: Callable[[JobContext], Any],
        *,
        name: str = "",
        key: str | None = None,
        on_finished: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        on_partial: Callable[[Any], None] | None = None,
        on_progress: Callable[[float, str], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        on_started: Callable[[], None] | None = None,
    ) -> JobHandle:
        """Queue ``fn(ctx)``; a pending or running job with the same ``key`` is cancelled.

        After :meth:`shutdown` nothing runs: the returned handle is already cancelled.
        """
        callbacks = {
            "finished": on_finished,
            "error": on_error,
            "partial": on_partial,
            "progress": on_progress,
            "cancelled": on_cancelled,
            "started": on_started,
        }
        handle = JobHandle(next(self._ids), name or getattr(fn, "__name__", "job"), key, fn,
                           callbacks)
        if self._closed:
            handle.cancel()
            handle.state = "done"
            return handle
        if key is not None:
            previous = self._latest.get(key)
            if previous is not None and previous in self._handles:
                self._handles[previous].cancel()
            self._latest[key] = handle.id
        was_idle = self.is_idle()
        self._handles[handle.id] = handle
        if was_idle:
            self.busy_changed.emit(True)
        self._thread.jobs.put(handle)
        return handle

    def cancel(self, handle: JobHandle | int | None) -> None:
        job_id = handle.id if isinstance(handle, JobHandle) else handle
        if job_id in self._handles:
            self._handles[job_id].cancel()

    def cancel_all(self) -> None:
        for handle in list(self._handles.values()):
            handle.cancel()

    def is_idle(self) -> bool:
        """True when no job is pending or running (final signals delivered)."""
        return not self._handles

    def running_job(self) -> JobHandle | None:
        return next((h for h in self._handles.values() if h.state == "running"), None)

    def pending_count(self) -> int:
        return len(self._handles)

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Cancel everything and join the thread; True if it stopped within ``timeout_s``."""
        if self._closed:
            return not self._thread.isRunning()
        self._closed = True
        self.cancel_all()
        self._thread.jobs.put(None)
        stopped = self._thread.wait(int(timeout_s * 1000))
        if not stopped:
            log.warning("worker thread did not stop within %.1f s", timeout_s)
            _ORPHANS.append(self._thread)
        return stopped

    def set_backend(self, executor) -> None:
        """Run jobs over a loaded model through ``executor`` (a ``RemoteExecutor``), or on
        this thread again with ``None``; jobs already running finish where they are."""
        from workbench.worker.remote import as_backend

        self._backend = as_backend(executor)

    def backend(self):
        return self._backend

    def thread(self) -> QThread:  # noqa: D401 - the worker's QThread (for tests)
        return self._thread

    # ------------------------------------------------------ worker thread
    def _execute(self, handle: JobHandle) -> None:
        if handle.cancelled:
            self._sig_cancelled.emit(handle.id)
            return
        handle.state = "running"
        self._sig_started.emit(handle.id)
        try:
            backend = self._backend
            if backend is None:
                result = handle.fn(_WorkerContext(self, handle))
            else:
                result = backend.run(handle.fn, _WorkerContext(self, handle))
        except Cancelled:
            self._sig_cancelled.emit(handle.id)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            self._sig_error.emit(handle.id, self._describe(handle, exc))
        else:
            self._sig_done.emit(handle.id, result)

    def _describe(self, handle: JobHandle, exc: Exception) -> str:
        if isinstance(exc, WorkbenchError):
            return str(exc)
        if is_out_of_memory(exc):
            free_device_memory()
            return (
                f"{handle.name}: out of device memory. Freed the cache; lower the batch "
                "size or the image size, or switch to the CPU"
            )
        self.last_error_details = "".join(traceback.format_exception(exc))
        if not self._closed:  # after shutdown nobody listens; the process may be exiting
            log.error("job %s failed\n%s", handle.name, self.last_error_details)
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"{handle.name} failed: {type(exc).__name__}" + (f": {text}" if text else "")

    # ---------------------------------------------------------- GUI thread
    def _live(self, job_id: int) -> JobHandle | None:
        handle = self._handles.get(job_id)
        if handle is None or handle.cancelled:
            return None
        if handle.key is not None and self._latest.get(handle.key) != job_id:
            return None
        return handle

    def _call(self, handle: JobHandle, which: str, *args) -> None:
        callback = handle.callbacks.get(which)
        if callback is not None:
            try:
                callback(*args)
            except Exception:  # noqa: BLE001 - a broken slot must not kill the runner
                log.exception("callback %s of job %s failed", which, handle.name)

    def _relay_started(self, job_id: int) -> None:
        handle = self._handles.get(job_id)
        if handle is not None:
            self.started.emit(job_id)
            self._call(handle, "started")

    def _relay_progress(self, job_id: int, fraction: float, message: str) -> None:
        handle = self._live(job_id)
        if handle is not None:
            self.progressed.emit(job_id, fraction, message)
            self._call(handle, "progress", fraction, message)

    def _relay_partial(self, job_id: int, result: object) -> None:
        handle = self._live(job_id)
        if handle is not None:
            self.partial.emit(job_id, result)
            self._call(handle, "partial", result)

    def _relay_done(self, job_id: int, result: object) -> None:
        if self._live(job_id) is None:
            self._relay_cancelled(job_id)
            return
        handle = self._finish(job_id)
        self.finished.emit(job_id, result)
        self._call(handle, "finished", result)
        self._maybe_idle()

    def _relay_error(self, job_id: int, message: str) -> None:
        handle = self._finish(job_id)
        if handle is None:
            return
        if handle.cancelled:
            self.cancelled.emit(job_id)
            self._call(handle, "cancelled")
        else:
            self.errored.emit(job_id, message)
            self._call(handle, "error", message)
        self._maybe_idle()

    def _relay_cancelled(self, job_id: int) -> None:
        handle = self._finish(job_id)
        if handle is None:
            return
        self.cancelled.emit(job_id)
        self._call(handle, "cancelled")
        self._maybe_idle()

    def _finish(self, job_id: int) -> JobHandle | None:
        handle = self._handles.pop(job_id, None)
        if handle is not None:
            handle.state = "done"
            if handle.key is not None and self._latest.get(handle.key) == job_id:
                del self._latest[handle.key]
        return handle

    def _maybe_idle(self) -> None:
        if self.is_idle():
            self.busy_changed.emit(False)
