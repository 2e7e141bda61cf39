"""Status-bar widget: the running job's name and progress, a Cancel button, the latest
message, and the log of every message.

An error stays until the next success (a finished job or an informative message) or
until it is older than :data:`ERROR_SECONDS`; every message is kept in the log
(*Messages* button) with its time.  Colours come from the palette, so they follow the
theme.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)
from superqt import QElidingLabel

from workbench.ui.theme import current_theme, message_colors, theme_signals

MESSAGE_SECONDS = 12
ERROR_SECONDS = 60
ERROR_READ_SECONDS = 3
LOG_LIMIT = 500
IDLE_MS = 300  # how long no job must run before the status says Ready
WHERE_CHARS = 64  # the "where jobs run" button is elided to about this many characters
WHERE_SHARE = 0.4  # … and to this share of the status bar's width


class JobStatus(QWidget):
    """Tracks every runner it is attached to; Cancel cancels the running job."""

    def __init__(self, status_bar: QStatusBar):
        super().__init__()
        self._bar = status_bar
        self._runners: list = []
        self.label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelJob")
        self.cancel_button.setToolTip("stop the running job (what it finished so far is kept)")
        self.cancel_button.clicked.connect(self.cancel_running)
        self.log_button = QPushButton("Messages")
        self.log_button.setObjectName("messageLog")
        self.log_button.setToolTip("every message of this session, with its time")
        self.log_button.clicked.connect(self.show_log)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.label, self.progress, self.cancel_button, self.log_button):
            layout.addWidget(widget)
        self.message = QElidingLabel("")
        self.message.setObjectName("statusMessage")
        status_bar.addWidget(self.message, 1)
        # where jobs run (workbench/ui/compute.py fills it; a click opens Settings → Compute)
        self.where = QPushButton("This computer")
        self.where.setObjectName("computeWhere")
        self.where.setFlat(True)
        self._where = ("This computer", "", False)
        status_bar.addPermanentWidget(self.where)
        status_bar.addPermanentWidget(self)
        self._clear = QTimer(self, singleShot=True, timeout=self._clear_message)
        # "Ready" waits a moment: a stream of short jobs (Live, a slider) does not flicker
        self._idle = QTimer(self, singleShot=True, interval=IDLE_MS,
                            timeout=lambda: self._set_running(None))
        self.messages: list[tuple[float, str, bool]] = []
        self.showing_error = False
        theme_signals.changed.connect(self._on_theme)
        self._set_running(None)

    def attach(self, runner) -> None:
        self._runners.append(runner)
        runner.started.connect(lambda job_id, r=runner: self._on_started(r, job_id))
        runner.progressed.connect(self._on_progress)
        runner.finished.connect(self._on_finished)
        for signal in (runner.errored, runner.cancelled):
            signal.connect(self._refresh)

    def cancel_running(self) -> None:
        for runner in self._runners:
            job = runner.running_job()
            if job is not None:
                runner.cancel(job)
                self.show_message(f"Cancelled {job.name}")

    def show_message(self, text: str, error: bool = False) -> None:
        self.messages.append((time.time(), text, error))
        del self.messages[:-LOG_LIMIT]
        self.log_button.setText(f"Messages ({len(self.messages)})")
        self.message.setText(text)
        self.message.setToolTip(text)
        self.showing_error = error
        self._colour()
        self._clear.start((ERROR_SECONDS if error else MESSAGE_SECONDS) * 1000)

    def show_where(self, text: str, detail: str = "", error: bool = False) -> None:
        """Where jobs run ("This computer (cpu)", a cluster and its workers), elided to
        fit; ``detail`` (the tooltip) has the whole of it; ``error`` shows it in red."""
        self._where = (text, detail, error)
        metrics = self.where.fontMetrics()
        room = metrics.averageCharWidth() * WHERE_CHARS
        if self._bar.width() > 100:
            room = min(room, int(self._bar.width() * WHERE_SHARE))
        self.where.setText(metrics.elidedText(text, Qt.TextElideMode.ElideRight, room))
        self.where.setToolTip((detail or text) + "\n\nclick to change where jobs run")
        palette = QApplication.palette()
        if error:
            palette.setColor(QPalette.ColorRole.ButtonText,
                             message_colors(current_theme().dark)["error"])
        self.where.setPalette(palette)

    def _on_theme(self, _theme) -> None:
        self._colour()
        self.show_where(*self._where)

    def _colour(self) -> None:
        palette = QApplication.palette()  # the theme's, not the one set for the last message
        base = palette.color(QPalette.ColorRole.WindowText)
        color = message_colors(current_theme().dark)["error"] if self.showing_error else base
        palette.setColor(QPalette.ColorRole.WindowText, color)
        self.message.setPalette(palette)
        font = self.message.font()
        font.setBold(self.showing_error)
        self.message.setFont(font)

    def _clear_message(self) -> None:
        self.message.setText("")
        self.showing_error = False
        self._colour()

    def _on_finished(self, *_args) -> None:
        """The next success clears an error the user has had time to read (the log keeps
        it); a job finishing in the same instant does not."""
        if self.showing_error and time.time() - self.messages[-1][0] >= ERROR_READ_SECONDS:
            self._clear_message()
        self._refresh()

    def show_log(self) -> QDialog:
        dialog = QDialog(self.window())
        dialog.setWindowTitle("Messages")
        entries = QListWidget()
        for stamp, text, error in reversed(self.messages):
            entries.addItem(f"{time.strftime('%H:%M:%S', time.localtime(stamp))}  "
                            f"{'error: ' if error else ''}{text}")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(entries)
        layout.addWidget(buttons)
        dialog.resize(640, 360)
        dialog.show()
        return dialog

    def _on_started(self, runner, job_id: int) -> None:
        self._idle.stop()
        job = runner.running_job()
        self._set_running(job.name if job is not None else "Working")

    def _on_progress(self, _job_id: int, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        if message:
            self.label.setText(message)

    def _refresh(self, *_args) -> None:
        running = [r.running_job() for r in self._runners]
        running = [job for job in running if job is not None]
        if running:
            self._idle.stop()
            self._set_running(running[0].name)
        else:
            self._idle.start()

    def _set_running(self, name: str | None) -> None:
        busy = name is not None
        self.label.setText(name or "Ready")
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if not busy:
            self.progress.setValue(0)
