"""The player: the frame as it is and as the model sees it (with the map over it), play /
pause at the source rate, a step either way, a scrub slider with time and frame number.

Frames are decoded on the IO runner; a new request supersedes the pending one, so
scrubbing shows the latest position and never queues.  Playing asks for the frame the
clock has reached; when the last one is still being decoded the tick is dropped (and
counted), never delayed.
"""

from __future__ import annotations

import time
from functools import partial

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from workbench.ui.tabs.video.jobs import display_job
from workbench.ui.widgets.forms import split, tool_button
from workbench.ui.widgets.image_view import ImageView
from workbench.ui.widgets.overlay_view import OverlayView


class Player(QWidget):
    """Emits ``frame_shown(index, seconds)`` when a frame is on screen."""

    frame_shown = Signal(int, float)

    def __init__(self, state, io_runner, parent=None):
        super().__init__(parent)
        self.state, self.io = state, io_runner
        self.path: str | None = None
        self.info = None
        self.index = 0
        self.frame = None  # the frame on screen, uint8
        self.seen = None  # as the model sees it (float, its input size)
        self.dropped = 0
        self._pending = False
        self._clock = None  # (monotonic start, first index) while playing
        self.raw_view = ImageView(title="the video")
        self.model_view = OverlayView(title="what the model sees")
        views = split(False, self.raw_view, self.model_view)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("drag to any frame")
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.sliderReleased.connect(lambda: self._request(self.slider.value()))
        self.position = QLabel("no video")
        self.play_button = tool_button("Play", "play at the video's own rate (Space)",
                                       self.toggle)
        self.play_button.setObjectName("playVideo")
        transport = QHBoxLayout()
        for text, tip, slot in (("|◀", "the first frame (Home)", lambda: self.seek_index(0)),
                                ("◀", "one frame back (←)", lambda: self.step(-1))):
            transport.addWidget(tool_button(text, tip, slot))
        transport.addWidget(self.play_button)
        for text, tip, slot in (("▶", "one frame on (→)", lambda: self.step(1)),
                                ("▶|", "the last frame (End)", lambda: self.seek_index(-1))):
            transport.addWidget(tool_button(text, tip, slot))
        transport.addWidget(self.slider, 1)
        transport.addWidget(self.position)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(views, 1)
        layout.addLayout(transport)
        self._timer = QTimer(self, timeout=self._tick)

    # ------------------------------------------------------------------ video
    def set_video(self, path: str, info) -> None:
        self.stop()
        self.path, self.info, self.dropped = path, info, 0
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, info.frame_count - 1))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.model_view.set_map(None)
        self.seek_index(0)

    def seek_index(self, index: int) -> None:
        if self.info is None:
            return
        index = self.info.frame_count - 1 if index < 0 else min(index, self.info.frame_count - 1)
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        self._request(index)

    def seek_time(self, seconds: float) -> None:
        if self.info is not None:
            self.seek_index(int(round(max(0.0, seconds) * self.info.fps)))

    def step(self, frames: int) -> None:
        self.stop()
        self.seek_index(max(0, self.index + frames))

    def _on_slider(self, value: int) -> None:
        """While the slider is dragged the nearest keyframe shows at once; the exact frame
        comes when it is let go (or the value is set any other way)."""
        self._request(value, quick=self.slider.isSliderDown())

    def _request(self, index: int, quick: bool = False) -> None:
        if self.path is None:
            return
        self._pending = True
        self.io.submit(partial(display_job, self.path, index, self.state.model, quick=quick),
                       name="Video frame", key="video-display", on_finished=self._shown,
                       on_error=self._failed, on_cancelled=self._superseded)

    def _superseded(self) -> None:
        self._pending = False

    def _failed(self, message: str) -> None:
        self._pending = False
        self.stop()
        self.state.error(message)

    def _shown(self, result) -> None:
        index, frame, seen, seconds = result
        self._pending = False
        self.index, self.frame, self.seen = index, frame, seen
        self.raw_view.set_image(frame)
        if seen is not None:
            self.model_view.set_image(seen)
        total = self.info.frame_count if self.info else 0
        self.position.setText(f"{seconds:6.2f} s · frame {index} / {total - 1}")
        self.frame_shown.emit(index, seconds)

    # --------------------------------------------------------------- playing
    def toggle(self) -> None:
        if self._timer.isActive():
            self.stop()
        elif self.info is not None:
            start = 0 if self.index >= self.info.frame_count - 1 else self.index
            self._clock = (time.monotonic(), start)
            self._timer.start(max(5, int(1000 / max(self.info.fps, 1.0))))
            self.play_button.setText("Pause")

    def stop(self) -> None:
        self._timer.stop()
        self._clock = None
        self.play_button.setText("Play")

    def is_playing(self) -> bool:
        return self._timer.isActive()

    def _tick(self) -> None:
        started, first = self._clock
        target = first + int((time.monotonic() - started) * self.info.fps)
        if target >= self.info.frame_count:
            self.seek_index(self.info.frame_count - 1)
            self.stop()
            return
        if self._pending:  # the machine is behind: drop this frame, do not queue it
            self.dropped += 1
            return
        self.slider.blockSignals(True)
        self.slider.setValue(target)
        self.slider.blockSignals(False)
        self._request(target)
