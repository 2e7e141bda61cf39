"""Where the window's jobs run: this computer, a Dask scheduler, or a local Dask cluster
(issue 19, DESIGN.md §12).  *Settings → Compute…* chooses; the status bar says where.

Connecting runs on the window's ``io_runner`` (never the model runner, never the GUI
thread); once connected the model runner gets a ``RemoteExecutor`` as its backend, so every
model job runs on the cluster.  A watch timer reads the client's state every second (the
scheduler lost is said within a few seconds, with "Continue on this computer"), and the
workers are described again every :data:`REFRESH_MS`.  The choice is remembered, but a
saved scheduler is never connected to at start-up without asking (``ask_connect``,
``$WORKBENCH_CONNECT=yes|no`` answers; throwaway windows — tests, screenshots — never ask).
Dask and torch are imported only when a cluster is used.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMenu

from workbench.ui import compute_dialog
from workbench.ui.compute_dialog import LOCAL_PREFIX, lost_box, place_name, where_lines
from workbench.ui.settings import read_compute, write_compute

CONNECT_TIMEOUT_S = 5.0
REFRESH_MS = 10_000
WATCH_MS = 1_000
FIRST_DESCRIBE_TIMEOUT_S = 30.0  # each worker imports torch to list its devices, once
DESCRIBE_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 10.0  # closing runs in the background; worker processes may take seconds
QUIT_CLOSE_TIMEOUT_S = 0.4  # quitting closes the client within 2 × this


def _bounded(fn, timeout_s: float, what: str):
    """``fn()`` in a helper thread; a ClusterError if it has not answered in ``timeout_s``."""
    from workbench.core.remote.cluster import ClusterError

    box: dict = {}

    def call():
        try:
            box["value"] = fn()
        except Exception as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc

    helper = threading.Thread(target=call, name="workbench-compute", daemon=True)
    helper.start()
    helper.join(timeout_s)
    if helper.is_alive():
        raise ClusterError(f"{what} did not answer within {timeout_s:.0f} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def close_client(client, executor=None, timeout_s: float = CLOSE_TIMEOUT_S,
                 wait: bool = False) -> None:
    """Close the executor, the client and a local cluster the client started, in a helper
    thread (a lost scheduler or slow worker processes never hold the window); ``wait``
    joins it for at most about 2 × ``timeout_s`` (on quit)."""
    def close():
        closers = [getattr(executor, "close", None) or getattr(executor, "reset", None)]
        for thing in (client, getattr(client, "_workbench_cluster", None)):
            if thing is not None:
                closers.append(lambda thing=thing: thing.close(timeout=timeout_s))
        for closer in closers:
            try:
                if closer is not None:
                    closer()
            except Exception:  # noqa: BLE001, S110 - closing what may be gone already
                pass

    helper = threading.Thread(target=close, name="workbench-compute-close", daemon=True)
    helper.start()
    if wait:
        helper.join(2 * timeout_s)


def connect_job(address: str, timeout_s: float, ctx):
    """On the io runner: connect, make the backend, describe the workers."""
    from workbench.core.remote.cluster import connect

    ctx.progress(0.1, f"Connecting to {address}…")
    client = connect(address, timeout_s=timeout_s)
    if address.startswith(LOCAL_PREFIX):
        client._workbench_cluster = client.cluster  # Client(cluster) leaves it open
    executor = None
    try:
        ctx.check()
        executor = _executor(client)
        ctx.progress(0.5, "Asking the workers for their devices and memory…")
        lines = _bounded(lambda: where_lines(client, address), FIRST_DESCRIBE_TIMEOUT_S,
                         "the cluster's workers")
        ctx.check()
    except BaseException:
        close_client(client, executor)
        raise
    return client, executor, lines


def _executor(client):
    """The model runner's backend (``None`` where ``RemoteExecutor`` is not there yet)."""
    try:
        from workbench.core.remote.interactive import RemoteExecutor
    except ImportError:
        return None
    return RemoteExecutor(client)


class Compute(QObject):
    """The window's compute setting: its client, the runner's backend, the status line."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.address, self.client, self.executor = "", None, None
        self.dialog = None
        self.lost_box = None
        self._handle = None
        self._refreshing = False
        _saved, self.last_scheduler, self.local_workers = read_compute(window.settings)
        self._watch = QTimer(self, interval=WATCH_MS, timeout=self._check_alive)
        self._refresh = QTimer(self, interval=REFRESH_MS, timeout=self.refresh)
        window.status.where.clicked.connect(self.open_dialog)
        window.state.model_changed.connect(lambda _m: self._show_here())
        window.model_dock.device_combo.currentTextChanged.connect(lambda _t: self._show_here())
        self._show_here()

    # ---------------------------------------------------------------- dialog
    def device(self) -> str:
        return self.window.model_dock.device_combo.currentText() or "cpu"

    def open_dialog(self):
        if self.dialog is not None:
            self.dialog.raise_()
            return self.dialog
        self.dialog = compute_dialog.ComputeDialog(
            self.window, self.address, self.last_scheduler, self.local_workers, self.device())
        self.dialog.chosen.connect(self.switch)
        self.dialog.continue_here.connect(lambda: self.switch(""))
        self.dialog.finished.connect(self._dialog_closed)
        self.dialog.show()
        return self.dialog

    def _dialog_closed(self, _result) -> None:
        if self._handle is not None:  # closed while connecting: stop listening
            self.window.io_runner.cancel(self._handle)
            self._handle = None
        self.dialog.deleteLater()
        self.dialog = None

    # ------------------------------------------------------------- switching
    def switch(self, address: str) -> None:
        """Run jobs at ``address`` (``""``: this computer); connecting is asynchronous."""
        address = address.strip()
        if address.startswith(LOCAL_PREFIX):
            self.local_workers = int(address[len(LOCAL_PREFIX):] or 2)
        elif address:
            self.last_scheduler = address
        if not address:
            self.use_this_computer()
            self._remember()
            if self.dialog is not None:
                self.dialog.accept()
            return
        where = f"Connecting to {place_name(address)}…"
        if self.dialog is not None:
            self.dialog.connecting(where)
        self.window.status.show_where(where)
        self._handle = self.window.io_runner.submit(
            lambda ctx: connect_job(address, CONNECT_TIMEOUT_S, ctx),
            name=where.rstrip("…"), key="compute-connect",
            on_finished=lambda result: self._connected(address, *result),
            on_error=lambda message: self._failed(address, message),
            on_cancelled=lambda: self._handle is None and self._show_here())

    def _connected(self, address: str, client, executor, lines) -> None:
        self._handle = None
        self.use_this_computer(quiet=True)  # the previous cluster, if any, goes
        self.address, self.client, self.executor = address, client, executor
        set_backend = getattr(self.window.runner, "set_backend", None)
        if set_backend is not None and executor is not None:
            set_backend(executor)
        self._remember()
        self.window.status.show_where(*lines)
        self.window.state.info(f"Connected to {place_name(address)}: jobs run there now")
        self._watch.start()
        self._refresh.start()
        if self.dialog is not None:
            self.dialog.accept()

    def _failed(self, address: str, message: str) -> None:
        self._handle = None
        self._show_here()
        self.window.state.error(message)
        if self.dialog is not None:
            self.dialog.failed(message)

    def use_this_computer(self, quiet: bool = False, timeout_s: float = CLOSE_TIMEOUT_S,
                          wait: bool = False) -> None:
        """Jobs run here again: the backend goes, the client (and a local cluster) close."""
        self._watch.stop()
        self._refresh.stop()
        set_backend = getattr(self.window.runner, "set_backend", None)
        if set_backend is not None and self.client is not None:
            set_backend(None)
        client, executor = self.client, self.executor
        self.address, self.client, self.executor = "", None, None
        if client is not None:
            close_client(client, executor, timeout_s, wait)
            if not quiet:
                self.window.state.info("Jobs now run on this computer")
        if self.lost_box is not None:
            self.lost_box.close()
            self.lost_box = None
        self._show_here()

    def _remember(self) -> None:
        if self.window._persist:  # a throwaway window leaves the settings alone
            write_compute(self.window.settings, self.address, self.last_scheduler,
                          self.local_workers)

    # ------------------------------------------------------------ status bar
    def _show_here(self) -> None:
        if self.client is None:
            self.window.status.show_where(f"This computer ({self.device()})",
                                          "Jobs run on this computer")

    def refresh(self) -> None:
        """Describe the workers again (off the GUI thread)."""
        client, address = self.client, self.address
        if client is None or self._refreshing:
            return
        self._refreshing = True

        def done(lines):
            self._refreshing = False
            if client is self.client:
                self.window.status.show_where(*lines)

        def failed(message):
            self._refreshing = False
            if client is self.client:
                self._lost(message)

        self.window.io_runner.submit(
            lambda ctx: _bounded(lambda: where_lines(client, address), DESCRIBE_TIMEOUT_S,
                                 "the scheduler"),
            name="Describing the cluster", key="compute-where", on_finished=done,
            on_error=failed, on_cancelled=lambda: setattr(self, "_refreshing", False))

    def _check_alive(self) -> None:
        status = getattr(self.client, "status", "closed")
        if self.client is not None and status not in ("running", "newly-created"):
            why = "trying to reconnect" if status == "connecting" else "connection closed"
            at = "of" if self.address.startswith(LOCAL_PREFIX) else "at"
            self._lost(f"lost the Dask scheduler {at} {place_name(self.address)} ({why})")

    def _lost(self, message: str) -> None:
        """Said once: a red status line, the message, and the offer to continue here."""
        self._watch.stop()
        self._refresh.stop()
        text = message[0].upper() + message[1:]
        name = "Local cluster" if self.address.startswith(LOCAL_PREFIX) else \
            f"Cluster {self.address}"
        self.window.status.show_where(f"{name}: scheduler lost — jobs cannot run", text,
                                      error=True)
        self.window.state.error(f"{text}; choose Continue on this computer, or reconnect "
                                "(Settings → Compute…)")
        if self.lost_box is not None:
            return
        address = self.address
        box = lost_box(self.window, text, self.use_this_computer, lambda: self.switch(address))
        box.finished.connect(lambda _r: setattr(self, "lost_box", None))
        self.lost_box = box

    # ----------------------------------------------------------- start, quit
    def start_up(self) -> None:
        """The saved choice: a local cluster starts again; a scheduler only if the user
        says so; throwaway windows always run here."""
        saved, self.last_scheduler, self.local_workers = read_compute(self.window.settings)
        if not saved or not self.window._persist or self.window._closed:
            return
        if saved.startswith(LOCAL_PREFIX) or compute_dialog.ask_connect(self.window, saved):
            self.switch(saved)
        else:
            write_compute(self.window.settings, "", self.last_scheduler, self.local_workers)

    def close(self) -> None:
        """On quit: stop the timers, drop the backend, close the client (≤ ~2 s)."""
        if self._handle is not None:
            self.window.io_runner.cancel(self._handle)
        self.use_this_computer(quiet=True, timeout_s=QUIT_CLOSE_TIMEOUT_S, wait=True)


def install(window) -> None:
    """*Settings → Compute…* (a Settings menu before Help) and ``window.compute``."""
    window.compute = Compute(window)
    menu = QMenu("&Settings", window)
    window.menuBar().insertMenu(window.help_menu.menuAction(), menu)
    window.settings_menu = menu
    action = menu.addAction("&Compute… (where jobs run: this computer or a Dask cluster)")
    action.triggered.connect(lambda *_: window.compute.open_dialog())
    window.compute_action = action
    QTimer.singleShot(0, window.compute.start_up)
