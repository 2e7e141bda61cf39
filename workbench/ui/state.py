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
    target_changed = Signal(object)  # DetectionTarget | RegionTarget | None (dense models)

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
        self.target = None  # the dense model's target (DESIGN.md §11); None: not picked yet
        self.target_is_default = True  # the Predict tab's default (best detection / region)
        self._scored = None  # job_model()'s cached scored model
        self._target_words = ""  # how the picker describes the target (else its describe())

    def set_model(self, model) -> None:
        self._clear_target()
        self.model = model
        self.model_spec = model.name if model is not None else ""
        self.model_changed.emit(model)

    def set_image(self, image: np.ndarray | None, name: str = "", path: str = "") -> None:
        self._clear_target()
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

    # ------------------------------------------------------------ dense targets
    def is_dense(self) -> bool:
        """The model is a detector or a segmenter (its jobs need a target)."""
        return self.model is not None and self.model.task != "classification"

    def set_target(self, target, default: bool = False, words: str = "") -> None:
        """The detection or region the other tabs explain (``default``: picked by the
        Predict tab, not by the user; ``words``: how to name it, if not as it names itself)."""
        self.target, self.target_is_default, self._scored = target, default, None
        self._target_words = words
        self.target_changed.emit(target)

    def _clear_target(self) -> None:
        if self.target is not None:
            self.set_target(None, default=True)

    def job_model(self):
        """The model jobs run on: a dense model seen through its target (a classifier-like
        model whose class ``target.label`` scores it), ``None`` for a dense model without
        a target yet, the plain model otherwise."""
        if not self.is_dense():
            return self.model
        if self.target is None:
            return None
        if self._scored is None:
            from workbench.core.tasks.targets import scored_model

            self._scored = scored_model(self.model, self.target)
        return self._scored

    def target_class(self) -> int | None:
        """The class the other tabs explain by default: the target's (``None``: top-1)."""
        return int(self.target.label) if self.is_dense() and self.target is not None else None

    def target_text(self) -> str:
        """One line saying what the other tabs explain ("" for a classifier)."""
        if not self.is_dense():
            return ""
        if self.target is None:
            return "none yet (waiting for the prediction)"
        text = self._target_words or self.target.describe(self.model.labels)
        return text + (" (the default)" if self.target_is_default else "")

    def info(self, text: str) -> None:
        self.message.emit(text, False)

    def error(self, text: str) -> None:
        self.message.emit(text, True)
