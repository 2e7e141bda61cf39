"""The clip a clip model sees in every tab: when a video is the current input and the model
takes clips (kind "video"), the clip starting at the video's current position — the
model's frame count, at the frame step of the rate it was trained at — is read on the IO
thread and put in the shared state, so Predict, Attribution, Occlusion and Adversarial
explain that clip instead of a still picture."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer

SETTLE_MS = 250  # the position must rest this long (scrubbing reads nothing)


def clip_job(path, start, model, ctx):
    """``(clip (T, H, W, 3) float, name)`` of the clip of ``model`` from frame ``start``."""
    from workbench.core.video.clips import clip_indices, default_spec, read_clip
    from workbench.io.video import VideoReader

    with VideoReader(path, cache_mb=16) as reader:
        spec = default_spec(model, reader.info.fps)
        count = reader.info.frame_count
        indices = clip_indices(min(int(start), count - 1), spec, count)
        clip = read_clip(reader, indices).astype(np.float32) / 255.0
    name = (f"{Path(path).name} · clip of {spec.frames} frames, {indices[0]}–{indices[-1]}"
            f" (every {spec.step})")
    return clip, name


class ClipSource(QObject):
    """Keeps ``state.clip`` in step with the video, its position and the model."""

    def __init__(self, state, io_runner, parent=None):
        super().__init__(parent)
        self.state, self.io = state, io_runner
        self.position = 0
        self._timer = QTimer(self, singleShot=True, interval=SETTLE_MS, timeout=self._read)
        state.video_changed.connect(self._on_video)
        state.model_changed.connect(lambda _model: self._timer.start())

    def follow(self, index: int) -> None:
        """The video's current frame changed (the Video tab's player, when it rests)."""
        if int(index) != self.position:
            self.position = int(index)
            self._timer.start()

    def _on_video(self, path) -> None:
        self.position = 0
        if path is None:
            if self.state.clip is not None:
                self.state.set_clip(None)
            return
        self._timer.start()

    def _read(self) -> None:
        model, path = self.state.model, self.state.video_path
        if model is None or model.kind != "video" or path is None:
            if self.state.clip is not None:
                self.state.set_clip(None)
            return
        self.io.submit(partial(clip_job, path, self.position, model), name="Reading the clip",
                       key="state-clip", on_finished=self._arrived, on_error=self.state.error)

    def _arrived(self, result) -> None:
        clip, name = result
        if self.state.video_path is not None:
            self.state.set_clip(clip, name)
