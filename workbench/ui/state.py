"""The state panels share: the loaded model and the current image (each tab keeps its own
layer)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal


class AppState(QObject):
    """Observable application state; panels react to its signals.

    The model object lives here but only jobs on the worker thread call it.
    """

    model_changed = Signal(object)  # LoadedModel | None
    model_loading = Signal(str)  # spec being loaded
    image_changed = Signal(object)  # np.ndarray | None
    message = Signal(str, bool)  # text, is_error
    video_changed = Signal(object)  # path of the video chosen in the Inputs dock

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.model = None
        self.model_spec = ""
        self.device = "cpu"
        self.image: np.ndarray | None = None
        self.image_name = ""
        self.image_path = ""
        self.video_path: str | None = None
        self.clip: np.ndarray | None = None  # (T, H, W, 3): a clip model's clip of the video
        self.clip_name = ""

    def set_model(self, model) -> None:
        self.model = model
        self.model_spec = model.name if model is not None else ""
        self.model_changed.emit(model)

    def set_image(self, image: np.ndarray | None, name: str = "", path: str = "") -> None:
        self.image, self.image_name, self.image_path = image, name, path
        self._tell_image()

    def set_clip(self, clip: np.ndarray | None, name: str = "") -> None:
        """The clip at the video's current position (for a clip model); every tab that
        shows the current input refreshes."""
        self.clip, self.clip_name = clip, name
        self._tell_image()

    def _tell_image(self) -> None:
        """``image_changed`` — once results thaw when they are frozen (View → Freeze)."""
        from workbench.ui.freeze import freeze

        if not freeze.hold(("image", id(self)), self._tell_image):
            self.image_changed.emit(self.image)

    def uses_clip(self) -> bool:
        return (self.clip is not None and self.video_path is not None
                and self.model is not None and self.model.kind == "video")

    def model_image(self) -> np.ndarray | None:
        """What the model takes: for a clip model on a video, the clip at the current
        position ``(T, H, W, 3)``; otherwise the current image ``(H, W, 3)``."""
        return self.clip if self.uses_clip() else self.image

    def input_name(self) -> str:
        """The name of what :meth:`model_image` gives, saying when a clip model sees a
        still picture repeated."""
        if self.uses_clip():
            return self.clip_name
        if self.model is not None and self.model.kind == "video" and self.image is not None:
            return (f"{self.image_name} (a still picture repeated over "
                    f"{self.model.num_frames} frames: no motion)")
        return self.image_name

    def set_video(self, path: str | None) -> None:
        if path != self.video_path:
            self.video_path = path
            self.video_changed.emit(path)

    def info(self, text: str) -> None:
        self.message.emit(text, False)

    def error(self, text: str) -> None:
        self.message.emit(text, True)
