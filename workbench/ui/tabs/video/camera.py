"""A Qt Multimedia camera as a live frame source (the same interface as
:class:`workbench.io.live.FileFrameSource`)."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtGui import QImage

from workbench.io.live import LatestFrame

CAMERA_FPS = 30.0  # a camera that does not say its rate


def camera_devices() -> tuple[list, str]:
    """The cameras Qt Multimedia lists, and why there are none (``""`` when it could look)."""
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError as exc:
        return [], f"Qt Multimedia is not available here ({exc})"
    try:
        return list(QMediaDevices.videoInputs()), ""
    except Exception as exc:  # noqa: BLE001 - a broken backend means "no camera"
        return [], f"the cameras could not be listed ({exc})"


def rgb_array(image: QImage) -> np.ndarray:
    """Any ``QImage`` → ``(H, W, 3)`` uint8 RGB (its own copy)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, line = rgb.height(), rgb.width(), rgb.bytesPerLine()
    raw = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=h * line)
    return raw.reshape(h, line)[:, : 3 * w].reshape(h, w, 3).copy()


class CameraSource(QObject):
    """A Qt Multimedia camera delivering its frames (uint8 RGB) to a :class:`LatestFrame`;
    the same ``start`` / ``stop`` / ``running`` / ``fps`` / ``error`` as a file source."""

    def __init__(self, device, sink: LatestFrame, parent=None):
        from PySide6.QtMultimedia import QCamera, QMediaCaptureSession, QVideoSink

        super().__init__(parent)
        self.device, self.frames, self.error = device, sink, None
        self.camera = QCamera(device, self)
        self.session = QMediaCaptureSession(self)
        self.video_sink = QVideoSink(self)
        self.session.setCamera(self.camera)
        self.session.setVideoSink(self.video_sink)
        self.video_sink.videoFrameChanged.connect(self._on_frame)
        self.camera.errorOccurred.connect(self._on_error)

    def start(self) -> CameraSource:
        self.camera.start()
        return self

    def stop(self, _timeout: float = 1.0) -> bool:
        self.camera.stop()
        return True

    @property
    def running(self) -> bool:
        return self.camera.isActive()

    @property
    def fps(self) -> float:
        rate = self.camera.cameraFormat().maxFrameRate()
        return float(rate) if rate and rate > 0 else CAMERA_FPS

    def _on_frame(self, frame) -> None:
        image = frame.toImage()
        if not image.isNull():
            self.frames.put(rgb_array(image), time.monotonic())

    def _on_error(self, _error, text: str) -> None:
        self.error = text or "the camera failed"


# ---------------------------------------------------------------------- page
