"""The autosave and the crash marker of the session controller (``workbench/ui/sessions.py``).

The autosave writes ``<config dir>/autosave.wbsession`` every few minutes (setting
``autosave_seconds``, default 180; ``$WORKBENCH_AUTOSAVE_S`` overrides; 0 turns it off)
when something changed, and on quit.  ``running.lock`` holds the pid of the running
window; found at start with its process gone, it means the last run crashed, and the
window offers to restore the autosave (:func:`ask_restore`; ``$WORKBENCH_RESTORE=yes|no``
answers for tests).  Throwaway windows (``restore=False``: screenshots, tests) neither
autosave nor write the lock.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from workbench.ui.settings import config_dir

AUTOSAVE_NAME = "autosave.wbsession"
LOCK_NAME = "running.lock"
DEFAULT_AUTOSAVE_S = 180


def ask_restore(window) -> bool:
    """Ask whether to restore the autosave after a crash (``$WORKBENCH_RESTORE`` answers)."""
    answer = os.environ.get("WORKBENCH_RESTORE", "").strip().lower()
    if answer in ("yes", "no"):
        return answer == "yes"
    choice = QMessageBox.question(
        window, "Restore session?", "Workbench did not close properly last time.\n\n"
        "Restore the session from before the crash?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes)
    return choice == QMessageBox.StandardButton.Yes


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":  # no signal 0 there: assume the other window still runs
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def autosave_path() -> Path:
    return config_dir() / AUTOSAVE_NAME


def lock_path() -> Path:
    return config_dir() / LOCK_NAME


class Recovery:
    """The autosave timer's work and the crash marker; mixed into the session controller,
    which provides ``window``, ``pending``, ``capture()``, ``_autosave`` (a QTimer),
    ``_poll`` and ``_last_digest``."""

    # ---------------------------------------------------------------- autosave
    def autosave_seconds(self) -> float:
        value = os.environ.get("WORKBENCH_AUTOSAVE_S") or self.window.settings.value(
            "autosave_seconds", DEFAULT_AUTOSAVE_S)
        try:
            return max(0.0, float(value))
        except (TypeError, ValueError):
            return float(DEFAULT_AUTOSAVE_S)

    def set_autosave_interval(self, seconds: float) -> None:
        """Change the autosave interval now (0 stops it)."""
        self._autosave.stop()
        if seconds > 0:
            self._autosave.start(int(seconds * 1000))

    def autosave(self) -> bool:
        """Write the autosave if anything changed since the last one; ``True`` if written."""
        from workbench.io.session import write_session
        from workbench.ui.session_state import digest

        if self.pending is not None or not self.window.started:
            return False
        try:
            manifest, arrays, copies = self.capture()
            fingerprint = digest(manifest, arrays)
            if fingerprint == self._last_digest and autosave_path().is_file():
                return False
            write_session(autosave_path(), manifest, arrays, copies)
        except Exception as exc:  # noqa: BLE001 - an autosave never stops the window
            self.window.state.error(f"Autosave failed: {exc}")
            self._autosave.stop()
            return False
        self._last_digest = fingerprint
        return True

    # ------------------------------------------------------------- crash marker
    def _crashed(self) -> bool:
        lock = lock_path()
        if not lock.is_file():
            return False
        try:
            pid = int(lock.read_text().strip() or 0)
        except (OSError, ValueError):
            return True
        return pid != os.getpid() and not pid_alive(pid)

    def _write_lock(self) -> None:
        from workbench.io.atomic import write_bytes_atomic

        try:
            write_bytes_atomic(lock_path(), f"{os.getpid()}\n".encode())
        except OSError as exc:
            self.window.state.error(f"Cannot write {lock_path()}: {exc}")

    def close(self) -> None:
        """On a clean close: the last autosave, then the lock goes."""
        self._poll.stop()
        self._autosave.stop()
        if not self.window._persist:
            return
        self.autosave()
        try:
            if lock_path().read_text().strip() == str(os.getpid()):
                lock_path().unlink()
        except (OSError, ValueError):
            pass
