"""Status-bar widget: the running job's name and progress, a Cancel button, and messages."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QStatusBar, QWidget
from superqt import QElidingLabel

ERROR_STYLE = "color: #d03030; font-weight: bold;"
MESSAGE_SECONDS = 12


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
        self.cancel_button.clicked.connect(self.cancel_running)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.label, self.progress, self.cancel_button):
            layout.addWidget(widget)
        self.message = QElidingLabel("")
        self.message.setObjectName("statusMessage")
        status_bar.addWidget(self.message, 1)
        status_bar.addPermanentWidget(self)
        self._clear = QTimer(self, singleShot=True, timeout=self._clear_message)
        self.messages: list[tuple[float, str, bool]] = []
        self._set_running(None)

    def attach(self, runner) -> None:
        self._runners.append(runner)
        runner.started.connect(lambda job_id, r=runner: self._on_started(r, job_id))
        runner.progressed.connect(self._on_progress)
        for signal in (runner.finished, runner.errored, runner.cancelled):
            signal.connect(self._refresh)

    def cancel_running(self) -> None:
        for runner in self._runners:
            job = runner.running_job()
            if job is not None:
                runner.cancel(job)
                self.show_message(f"Cancelled {job.name}")

    def show_message(self, text: str, error: bool = False) -> None:
        self.messages.append((time.time(), text, error))
        self.message.setText(text)
        self.message.setToolTip(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self._clear.start(MESSAGE_SECONDS * 1000 * (2 if error else 1))

    def _clear_message(self) -> None:
        self.message.setText("")
        self.message.setStyleSheet("")

    def _on_started(self, runner, job_id: int) -> None:
        job = runner.running_job()
        self._set_running(job.name if job is not None else "Working")

    def _on_progress(self, _job_id: int, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        if message:
            self.label.setText(message)

    def _refresh(self, *_args) -> None:
        running = [r.running_job() for r in self._runners]
        running = [job for job in running if job is not None]
        self._set_running(running[0].name if running else None)

    def _set_running(self, name: str | None) -> None:
        busy = name is not None
        self.label.setText(name or "Ready")
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if not busy:
            self.progress.setValue(0)
