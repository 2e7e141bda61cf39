"""UMAP in a helper process, so that the window never waits for it.

numba's compiler and umap-learn's loops hold Python's interpreter lock in long
stretches of C: measured here, ``import umap`` on a background thread froze the main
thread for 81 ms and a first fit for up to 196 ms, and the window's event loop stalled
124 ms while UMAP loaded from numba's cache — over the 50 ms a live window may stall
(issue 7).  The window therefore runs umap-learn in one spawned helper process that
imports only :mod:`workbench.core.umap_engine` and numpy (no torch, no Qt; started with
``python -m``, so it never re-runs the caller's main script), keeps its
compiled kernels warm for the whole session, and holds the last ``KEEP_MODELS`` fitted
maps so that new points can be placed into them.

Protocol over one pipe: the caller sends ``(command, arguments, array header)`` and then
the array's raw bytes (no pickling of big arrays); the helper answers with any number of
``("progress", fraction, message)`` and one ``("result", value)``, ``("cancelled",)`` or
``("error", user_facing, message)``.  To cancel, the caller sends a message, which the
helper looks for between layout epochs; if it does not answer within ``CANCEL_GRACE_S``
the helper is killed and the next call starts a new one.  The helper exits when the
socket closes, so it never outlives the application.  Where no helper can start (a
platform without ``pass_fds``, an interpreter that cannot import Workbench) the
reducer falls back to running UMAP in the caller's process.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from multiprocessing.connection import Connection

import numpy as np

from workbench.core import umap_engine
from workbench.errors import Cancelled, WorkbenchError

KEEP_MODELS = 4
COMMANDS = ("fit", "transform", "warm_up")
TOO_OLD = "This UMAP map is too old to place new points in; compute it again."
CANCEL_GRACE_S = 1.0
POLL_S = 0.05
START_TIMEOUT_S = 60.0
_ENABLED = {"on": False}


class HelperUnavailable(WorkbenchError):
    """The helper process cannot start here (UMAP then runs in the caller's process)."""


def enable(on: bool = True) -> None:
    """Route UMAP through the helper process (the window does this; the CLI does not)."""
    _ENABLED["on"] = on


def enabled() -> bool:
    return _ENABLED["on"]


# ---------------------------------------------------------------------- the helper side
def _receive_array(conn, header):
    if header is None:
        return None
    shape, dtype = header
    array = np.empty(shape, dtype=dtype)
    conn.recv_bytes_into(memoryview(array).cast("B"))
    return array


class _Helper:
    """The state and commands of the helper process."""

    def __init__(self, conn):
        self.conn = conn
        self.models: OrderedDict[int, object] = OrderedDict()
        self.ids = itertools.count(1)

    def report(self, done: int, total: int) -> None:
        """Between layout epochs: anything the caller sends meanwhile is a cancel."""
        try:
            cancelled = self.conn.poll()
            if cancelled:
                self.conn.recv()
        except (EOFError, OSError):
            cancelled = True  # the caller is gone
        if cancelled:
            raise Cancelled()
        if total > 0:
            self.conn.send(("progress", *umap_engine.epoch_progress(done, total)))

    def fit(self, options, data):
        self.conn.send(("progress", *umap_engine.NEIGHBOURS_PROGRESS))
        coords, model = umap_engine.fit(data, options, self.report)
        handle = next(self.ids)
        self.models[handle] = model
        while len(self.models) > KEEP_MODELS:
            self.models.popitem(last=False)
        return handle, coords

    def transform(self, handle, data):
        if handle not in self.models:
            raise WorkbenchError(TOO_OLD)
        self.models.move_to_end(handle)
        return umap_engine.transform(self.models[handle], data)

    def warm_up(self, parallel):
        return umap_engine.warm_up(parallel)

    def answer(self, command, arguments, data) -> None:
        try:
            handler = getattr(self, command)
            result = handler(*arguments, data) if data is not None else handler(*arguments)
            reply = ("result", result)
        except Cancelled:
            reply = ("cancelled",)
        except WorkbenchError as error:
            reply = ("error", True, str(error))
        except Exception as error:  # reported to the caller, the helper lives on
            reply = ("error", False, f"UMAP failed: {type(error).__name__}: {error}")
        self.conn.send(reply)


def serve(conn) -> None:
    """The helper process's main loop: answer requests until the caller hangs up."""
    helper = _Helper(conn)
    conn.send(("ready",))
    while True:
        try:
            command, arguments, header = conn.recv()
            data = _receive_array(conn, header)
            if command == "exit":
                return
            if command in COMMANDS:  # a late "cancel" for a finished request is dropped
                helper.answer(command, arguments, data)
        except (EOFError, OSError, KeyboardInterrupt):
            return


# ---------------------------------------------------------------------- the caller side
class UmapProcess:
    """The caller's handle on the helper process; thread-safe, one request at a time."""

    def __init__(self):
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._conn = None
        self._generation = 0  # which helper process: maps die with theirs

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def fit(self, data: np.ndarray, options: dict, ctx=None):
        """``(handle, coords)``: fit a map in the helper; ``handle`` names it for later."""
        generation, (number, coords) = self._call("fit", (options,), data, ctx)
        return (generation, number), coords

    def transform(self, handle, data: np.ndarray, ctx=None) -> np.ndarray:
        generation, number = handle
        if generation != self._generation or not self.alive():
            raise WorkbenchError(TOO_OLD)  # that helper stopped, and its maps with it
        answered_by, coords = self._call("transform", (number,), data, ctx)
        if answered_by != generation:  # the helper restarted on the way: not our map
            raise WorkbenchError(TOO_OLD)
        return coords

    def warm_up(self, parallel: bool = False, ctx=None) -> float:
        return self._call("warm_up", (parallel,), None, ctx)[1]

    def shutdown(self, timeout: float = 1.0) -> None:
        """Stop the helper (it would also stop on its own when this process exits)."""
        if not self._lock.acquire(timeout=timeout):
            self._kill()
            return
        try:
            if self.alive():
                try:
                    self._conn.send(("exit", (), None))
                except OSError:
                    pass
                try:
                    self._process.wait(timeout)
                except subprocess.TimeoutExpired:
                    pass
            self._kill()
        finally:
            self._lock.release()

    # ------------------------------------------------------------------ internals
    def _command(self, fd: int) -> list[str]:
        return [sys.executable, "-m", "workbench.core.umap_process", str(fd)]

    def _start(self, ctx) -> None:
        """Start a helper and wait for its "ready"; :class:`HelperUnavailable` if it cannot
        start here (no ``pass_fds`` on this platform, an interpreter that cannot import
        Workbench, …)."""
        import workbench

        ours, theirs = socket.socketpair()
        package_root = os.path.dirname(os.path.dirname(os.path.abspath(workbench.__file__)))
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
        try:
            self._process = subprocess.Popen(
                self._command(theirs.fileno()), pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": path})
        except (OSError, ValueError) as error:
            ours.close()
            raise HelperUnavailable(f"UMAP's helper process cannot start: {error}") from None
        finally:
            theirs.close()
        self._conn = Connection(ours.detach())
        self._generation += 1
        self._await_ready(ctx)

    def _await_ready(self, ctx) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._conn.poll(POLL_S):
            if not self.alive() or time.monotonic() > deadline:
                raise self._not_started()
            if ctx is not None and ctx.cancelled:
                self._kill()
                raise Cancelled()
        try:
            self._conn.recv()
        except (EOFError, OSError):
            raise self._not_started() from None

    def _not_started(self) -> HelperUnavailable:
        try:
            code = self._process.wait(1.0)
        except subprocess.TimeoutExpired:
            code = "none: it hung"
        self._kill()
        return HelperUnavailable(f"UMAP's helper process did not start (exit code {code})")

    def _kill(self) -> None:
        if self.alive():
            self._process.kill()
            self._process.wait(1.0)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None

    def _acquire(self, ctx) -> None:
        while not self._lock.acquire(timeout=POLL_S):
            if ctx is not None:
                ctx.check()

    def _call(self, command, arguments, data, ctx):
        """``(generation of the helper that answered, its answer)``."""
        self._acquire(ctx)
        try:
            if not self.alive():
                self._kill()
                self._start(ctx)
            header = None
            if data is not None:
                data = np.ascontiguousarray(data, dtype=np.float32)
                header = (data.shape, data.dtype.str)
            try:
                self._conn.send((command, arguments, header))
                if data is not None:
                    self._conn.send_bytes(memoryview(data).cast("B"))
            except OSError as error:
                self._kill()
                raise WorkbenchError(f"The UMAP helper process stopped: {error}") from None
            return self._generation, self._wait(ctx)
        finally:
            self._lock.release()

    def _wait(self, ctx):
        cancelled_at = None
        while True:
            if self._conn.poll(POLL_S):
                try:
                    message = self._conn.recv()
                except (EOFError, OSError):
                    message = ("error", True, "The UMAP helper process stopped unexpectedly; "
                                              "it restarts on the next map.")
                    self._kill()
                outcome = self._handle(message, ctx)
                if outcome is not None:
                    return outcome[0]
            elif not self.alive():
                self._kill()
                if cancelled_at is not None:
                    raise Cancelled()
                raise WorkbenchError("The UMAP helper process stopped unexpectedly; "
                                     "it restarts on the next map.")
            if ctx is not None and ctx.cancelled:
                if cancelled_at is None:
                    cancelled_at = time.monotonic()
                    self._send_cancel()
                elif time.monotonic() - cancelled_at > CANCEL_GRACE_S:
                    self._kill()  # busy in C (neighbours, compiling): stop it the hard way
                    raise Cancelled()

    def _send_cancel(self) -> None:
        try:
            self._conn.send(("cancel", (), None))
        except OSError:
            pass

    @staticmethod
    def _handle(message, ctx):
        """``(value,)`` when the request finished, ``None`` while it goes on."""
        kind = message[0]
        if kind == "progress":
            if ctx is not None:
                ctx.progress(message[1], message[2])
            return None
        if kind == "result":
            return (message[1],)
        if kind == "cancelled":
            raise Cancelled()
        _, user_facing, text = message
        raise (WorkbenchError if user_facing else RuntimeError)(text)


_HELPER = UmapProcess()


def helper() -> UmapProcess:
    """The process-wide helper (started on its first request)."""
    return _HELPER


def shutdown() -> None:
    _HELPER.shutdown()


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
