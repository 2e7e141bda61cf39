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

    def set_model(self, model) -> None:
        self.model = model
        self.model_spec = model.name if model is not None else ""
        self.model_changed.emit(model)

    def set_image(self, image: np.ndarray | None, name: str = "", path: str = "") -> None:
        self.image, self.image_name, self.image_path = image, name, path
        self.image_changed.emit(image)

    def set_video(self, path: str | None) -> None:
        if path != self.video_path:
            self.video_path = path
            self.video_changed.emit(path)

    def info(self, text: str) -> None:
        self.message.emit(text, False)

    def error(self, text: str) -> None:
        self.message.emit(text, True)
