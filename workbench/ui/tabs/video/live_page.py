"""The Video tab's Live page: a camera, or a video file played as if it were one, with the
model's top classes and (optionally) its Grad-CAM on the newest frame.

Frames arrive in a one-slot mailbox (:class:`~workbench.io.live.LatestFrame`) from the
source's thread (a file) or Qt Multimedia (a camera); a short timer takes them on the GUI
thread.  Each prediction is one job on the model runner under the key ``"live"``, and
:class:`~workbench.io.live.LiveScheduler` keeps at most one in flight and one waiting —
the newest — so the page never works through a queue of stale frames.  The frame shown
is the frame its prediction and map belong to.
"""

from __future__ import annotations

import time
from collections import deque
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from workbench.io.live import FileFrameSource, LatestFrame, LiveScheduler, Recorder
from workbench.ui.freeze import freeze
from workbench.ui.tabs.video.camera import CameraSource, camera_devices
from workbench.ui.tabs.video.live_display import LiveDisplay
from workbench.ui.tabs.video.live_jobs import LiveInput, LiveResult, clip_step, live_job
from workbench.ui.tabs.video.live_record import LiveRecording, wrapped_label
from workbench.ui.theme import theme_signals
from workbench.ui.widgets.charts import TopKChart
from workbench.ui.widgets.control_column import ControlColumn
from workbench.ui.widgets.display_controls import DisplayControls
from workbench.ui.widgets.forms import button, column, row, split, stacked
from workbench.ui.widgets.overlay_view import OverlayView

LIVE_KEY = "live"
POLL_MS = 10  # how often the GUI thread looks for a new frame
TOPK = 5
VIDEO_FILTER = "Videos (*.mp4 *.mov *.mkv *.avi *.webm *.m4v *.gif);;All files (*)"


class LivePage(LiveRecording, LiveDisplay, QWidget):
    """Live predictions on a camera or a file played live.

    Signals: ``frozen(image, name)`` — Freeze was pressed: the frame shown, ``(H, W, 3)``
    float32 RGB in [0, 1], for the Inputs dock; ``running_changed(bool)``."""

    frozen = Signal(object, str)
    running_changed = Signal(bool)

    def __init__(self, runner, parent=None):
        super().__init__(parent)
        self.setObjectName("LivePage")
        self.runner, self.model = runner, None
        self.file_path: str | None = None
        self.source = None  # FileFrameSource or CameraSource while running
        self.source_name = ""
        self.mailbox = LatestFrame()
        self.scheduler = LiveScheduler()
        self.recorder: Recorder | None = None
        self.record_path: str | None = None
        self.shown: np.ndarray | None = None  # the frame on screen (uint8)
        self.latest = None  # the newest frame taken (Captured)
        self.result: LiveResult | None = None
        self._clip: deque = deque()
        self._job = None
        self._run = 0  # which start the callbacks belong to
        self._stats_at = 0.0
        self._cameras: list = []
        self._build()
        self._poll = QTimer(self, interval=POLL_MS, timeout=self._poll_once)
        theme_signals.changed.connect(self._on_theme)
        self._list_sources([], "the cameras are listed when the page is first shown")
        self._set_running(False)

    # ------------------------------------------------------------------ build
    def _build(self) -> None:
        self.view = OverlayView(title="live")
        self.chart = TopKChart()
        self.top_label = QLabel("")
        self.top_label.setObjectName("liveTop")
        self.top_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        views = split(True, column((self.view, 1), self.top_label), self.chart, stretch=(2, 1))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split(False, views, ControlColumn(self._controls()), stretch=(1, 0)))

    def _controls(self) -> QWidget:
        self.source_combo = QComboBox()
        self.source_combo.setToolTip("a camera, or a video file played at its own rate as if "
                                     "it came from one")
        self.file_label = wrapped_label("")
        choose = button("Choose…", "the video file to play live", self.choose_file)
        self.start_button = button("Start", "start the source and predict its newest frame",
                                   self.start, "startLive")
        self.stop_button = button("Stop", "stop the source (and a recording)", self.stop,
                                  "stopLive")
        source = QGroupBox("Source")
        form = QFormLayout(source)
        form.addRow(self.source_combo)
        form.addRow(row((self.file_label, 1), choose))
        form.addRow(row(self.start_button, self.stop_button))
        self.cam_box = QCheckBox("Show Grad-CAM")
        self.cam_box.setToolTip("the Grad-CAM of the top class on every frame (at the "
                                "model's default layer; costs about one more forward pass)")
        self.cam_box.toggled.connect(self._cam_toggled)
        self.display = DisplayControls()
        self.display.changed.connect(self.view.set_style)
        show = QGroupBox("Map")
        show_form = QFormLayout(show)
        show_form.addRow(self.cam_box)
        show_form.addRow(self.display)
        return stacked(source, show, self._keep_box(), margins=True)

    # ---------------------------------------------------------------- sources
    def refresh_sources(self) -> None:
        """List the cameras again (the file entry stays); the page does it when shown."""
        self._list_sources(*camera_devices())

    def _list_sources(self, cameras: list, why: str) -> None:
        self._cameras, combo = cameras, self.source_combo
        chosen = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        for number, device in enumerate(self._cameras):
            combo.addItem(f"Camera: {device.description()}", f"camera:{number}")
        if not self._cameras:
            combo.addItem("No camera found", "none")
            item = combo.model().item(0)
            item.setEnabled(False)
            item.setToolTip(why or "Qt Multimedia lists no camera on this machine")
        combo.addItem("Video file played live…", "file")
        keep = chosen and (chosen.startswith("camera") or (chosen == "file" and self.file_path))
        kept = combo.findData(chosen) if keep else -1  # else a camera first, if there is one
        combo.setCurrentIndex(kept if kept >= 0 else 0 if cameras else combo.count() - 1)
        combo.blockSignals(False)

    def set_video_path(self, path) -> None:
        """The video to play live (e.g. the Video tab's current one); selects the file."""
        self.file_path = None if path is None else str(path)
        self.file_label.setText(Path(self.file_path).name if self.file_path else "")
        self.file_label.setToolTip(self.file_path or "")
        if self.file_path:
            self.source_combo.setCurrentIndex(self.source_combo.count() - 1)

    def choose_file(self) -> None:
        path = self.ask_open_path()
        if path:
            self.set_video_path(path)

    def ask_open_path(self) -> str:
        return QFileDialog.getOpenFileName(self, "Play a video live", "", VIDEO_FILTER)[0]

    # --------------------------------------------------------------- running
    @property
    def running(self) -> bool:
        return self.source is not None

    def set_model(self, model) -> None:
        """The model to run (a ``LoadedModel`` or ``None``); a live run stops."""
        self.stop()
        self.model, self.result = model, None
        self.chart.show_rows([])
        self.top_label.setText("")
        self.view.set_map(None)
        if model is not None and model.kind == "video":
            self.status.setText(f"{model.name} is a clip model: each prediction takes the "
                                f"newest {model.num_frames} frames.")

    def start(self) -> bool:
        """Start the chosen source; False when there is nothing to start."""
        if self.running:
            return True
        kind, _, number = (self.source_combo.currentData() or "none").partition(":")
        self.mailbox, self.scheduler = LatestFrame(), LiveScheduler()
        self._clip = deque()
        try:
            source = self._open_source(kind, number)
        except Exception as exc:  # noqa: BLE001 - a camera that refuses is a message
            self.status.setText(f"Could not start: {exc}")
            return False
        if source is None:
            return False
        self._run += 1
        self.source = source.start()
        self._poll.start()
        self._set_running(True)
        self.status.setText(f"Live: {self.source_name}" + (
            "" if self.model is not None else " (no model yet: showing the frames only)"))
        return True

    def _open_source(self, kind: str, number):
        if kind == "camera":
            device = self._cameras[int(number)]
            self.source_name = device.description()
            return CameraSource(device, self.mailbox, self)
        if kind != "file":
            self.status.setText("No camera found: choose “Video file played live…”.")
            return None
        if not self.file_path:
            self.choose_file()
        if not self.file_path:
            return None
        self.source_name = Path(self.file_path).name
        return FileFrameSource(self.file_path, sink=self.mailbox)

    def stop(self) -> None:
        """Stop the source (its thread is joined, the camera closed), the job in flight and
        a recording.  Safe to call at any time."""
        self._poll.stop()
        source, self.source = self.source, None
        if source is not None:
            if not source.stop():
                self.status.setText("The source's thread did not stop within a second")
            if isinstance(source, QObject):
                source.deleteLater()
        if self._job is not None:
            self.runner.cancel(self._job)
            self._job = None
        self.scheduler.reset()
        if source is not None:
            self.status.setText("Stopped.")
        self.stop_recording()
        if source is not None:
            self._set_running(False)
            self._show_stats(force=True)

    def _stop_with(self, message: str) -> None:
        self.stop()
        self.status.setText(message)

    def _set_running(self, on: bool) -> None:
        self.start_button.setEnabled(not on)
        self.stop_button.setEnabled(on)
        self.source_combo.setEnabled(not on)
        self.record_button.setEnabled(on)
        self.running_changed.emit(on)

    # ------------------------------------------------------------------ frames
    def _poll_once(self) -> None:
        source = self.source
        if source is None:
            return
        if source.error:
            self._stop_with(f"Stopped: {source.error}")
            return
        captured = self.mailbox.take()
        if captured is not None:
            self._received(captured)
        self._show_stats()

    def _received(self, captured) -> None:
        self.latest = captured
        if self.recorder is not None:
            self.recorder.append(captured.frame, captured.time)
        if freeze.frozen:  # View → Freeze results: the last frame and overlay stay
            return
        item = self._model_input(captured.frame)
        if item is None:
            self._show_frame(captured.frame)
            return
        run = self.scheduler.offer(item, captured.time)
        if run is not None:
            self._submit(run)

    def _model_input(self, frame: np.ndarray) -> LiveInput | None:
        """What the model runs on (``None``: no model, or a clip not yet full)."""
        model = self.model
        if model is None:
            return None
        if model.kind != "video":
            return LiveInput(frame)
        step = clip_step(model, self.source.fps)
        span = (model.num_frames - 1) * step + 1
        self._clip.append(frame)
        while len(self._clip) > span:
            self._clip.popleft()
        if len(self._clip) < span:
            self.status.setText(f"Filling the clip: {len(self._clip)} of {span} frames")
            return None
        if self.status.text().startswith("Filling"):
            self.status.setText(f"Live: {self.source_name} (clips of {model.num_frames} "
                                f"frames, every {step})")
        return LiveInput(frame, list(self._clip)[::step])

    def _submit(self, item: LiveInput) -> None:
        model = self.model
        self._job = self.runner.submit(
            partial(live_job, model, item.frame, item.clip, self.cam_box.isChecked(), TOPK),
            name="Live prediction", key=LIVE_KEY,
            on_finished=partial(self._arrived, self._run, item, model),
            on_error=partial(self._failed, self._run),
            on_cancelled=partial(self._cancelled, self._run))

    def _current(self, run: int) -> bool:
        return self.running and run == self._run

    def _arrived(self, run: int, item: LiveInput, model, result: LiveResult) -> None:
        done = time.monotonic()
        if not self._current(run) or model is not self.model:
            return
        captured = self.mailbox.take()  # a frame come since the last look waits too
        if captured is not None:
            self._received(captured)
        following = self.scheduler.finished(done)
        self._job = None
        if following is not None:
            self._submit(following)  # the worker starts while this one is drawn
        self._show_result(item, model, result)
        self._show_stats()

    def _failed(self, run: int, message: str) -> None:
        if self._current(run):
            self._job = None
            self._stop_with(f"Stopped: {message}")

    def _cancelled(self, run: int) -> None:
        if self._current(run):  # cancelled from outside (the status bar's Cancel)
            self._job = None
            self._stop_with("Stopped: the live prediction was cancelled")

    # ---------------------------------------------------------------- events
    def showEvent(self, event):  # noqa: N802 - Qt override
        """Cameras are looked for when the page shows (Qt Multimedia loads only then)."""
        super().showEvent(event)
        if not self.running:
            self.refresh_sources()

    def hideEvent(self, event):  # noqa: N802 - Qt override
        """Leaving the page (another tab) stops the source; minimizing does not."""
        if not event.spontaneous():
            self.stop()
        super().hideEvent(event)

    def closeEvent(self, event):  # noqa: N802 - Qt override
        self.stop()
        super().closeEvent(event)

