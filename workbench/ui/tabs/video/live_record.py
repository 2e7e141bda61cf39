"""The Live page's "Live" box: Freeze (the frame on screen to the Inputs), Record (the
source's frames, at their own times, to an MP4), and the statistics and status lines
under them."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog, QFormLayout, QGroupBox, QLabel, QPushButton

from workbench.io.live import Recorder
from workbench.ui.tabs.video.camera import CAMERA_FPS
from workbench.ui.widgets.forms import button, row


def wrapped_label(text: str) -> QLabel:
    """A label whose text wraps."""
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class LiveRecording:
    """Mixed into :class:`~workbench.ui.tabs.video.live_page.LivePage`."""

    def _keep_box(self) -> QGroupBox:
        self.freeze_button = button("Freeze", "this frame to the Inputs, for every other tab",
                                    self.freeze, "freezeLive")
        self.record_button = QPushButton("Record…")
        self.record_button.setObjectName("recordLive")
        self.record_button.setCheckable(True)
        self.record_button.setToolTip("record the source's frames, at their own times, to "
                                      "an MP4 (press again to finish the file)")
        self.record_button.toggled.connect(self._record_toggled)
        self.stats = wrapped_label("")
        self.stats.setObjectName("liveStats")
        self.status = wrapped_label("Choose a source and press Start.")
        box = QGroupBox("Live")
        form = QFormLayout(box)
        form.addRow(row(self.freeze_button, self.record_button))
        form.addRow(self.stats)
        form.addRow(self.status)
        return box

    def ask_save_path(self) -> str:
        path = QFileDialog.getSaveFileName(self, "Record to", "live.mp4", "MP4 (*.mp4)")[0]
        return path if not path or path.lower().endswith(".mp4") else path + ".mp4"

    def freeze(self) -> None:
        """Send the frame on screen to the Inputs (``frozen``)."""
        frame = self.shown if self.shown is not None else (
            self.latest.frame if self.latest is not None else None)
        if frame is None:
            self.status.setText("Nothing to freeze yet: press Start.")
            return
        name = f"{self.source_name or 'live'} · live {time.strftime('%H:%M:%S')}"
        self.frozen.emit(frame.astype(np.float32) / 255.0, name)

    def _record_toggled(self, on: bool) -> None:
        if on and self.recorder is None:
            path = self.ask_save_path()
            if not path or not self.start_recording(path):
                self.record_button.setChecked(False)
        elif not on:
            self.stop_recording()

    def start_recording(self, path) -> bool:
        """Record every frame the source delivers from now on to the MP4 ``path``."""
        if self.source is None:
            self.status.setText("Start a source first, then record.")
            return False
        self.stop_recording()
        self.record_path = str(path)
        self.recorder = Recorder(path, self.source.fps or CAMERA_FPS)
        self._check_record(True)
        self.status.setText(f"Recording to {Path(path).name} …")
        return True

    def stop_recording(self) -> Path | None:
        """Finish the recording (if any); the file's path, or ``None``."""
        recorder, self.recorder = self.recorder, None
        self._check_record(False)
        if recorder is None:
            return None
        try:
            path = recorder.close()
        except Exception as exc:  # noqa: BLE001 - a failed encoder is a message
            self.status.setText(f"The recording failed: {exc}")
            return None
        self.status.setText(f"Recorded {recorder.written} frames to {path}" if path
                            else "Nothing was recorded")
        return path

    def _check_record(self, on: bool) -> None:
        self.record_button.blockSignals(True)
        self.record_button.setChecked(on)
        self.record_button.setText("Stop recording" if on else "Record…")
        self.record_button.blockSignals(False)
