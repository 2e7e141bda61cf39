"""The Video tab with a detector or a segmenter: the frame on screen shows its boxes (with
track ids) or its class map, drawn by :mod:`workbench.io.annotate` — the same drawing as
the annotated MP4 export.

Results are computed on demand on the model runner and cached by frame index, so
scrubbing back never recomputes.  Requests are latest-wins: while one frame is in the
model, only the newest position waits (an older wish is dropped, never queued).  Run
(the Frames box) fills the cache for the sampled frames in batches.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from functools import partial

import numpy as np
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QGroupBox, QLabel

from workbench.ui.widgets.forms import button, form_box
from workbench.ui.widgets.legend import Legend

CACHE_MB = 256
LEGEND_HEIGHT = 150  # px before the class list scrolls
FPS_SMOOTHING = 0.3


def dense_frame_job(model, index: int, frame: np.ndarray, ctx):
    """The player's request: one frame through the model."""
    from workbench.core.video.dense import one_frame

    result, seconds = one_frame(model, frame)
    return model, int(index), result, seconds


def dense_run_job(model, path, indices, known, ctx):
    from workbench.core.video.dense import dense_frames

    return dense_frames(model, path, indices, known=known, ctx=ctx)


def dense_export_job(out, path, model, threshold, track, known, start, stop, alpha, ctx):
    from workbench.core.video.dense_export import write_dense_video

    return write_dense_video(out, path, model, threshold, track, known, start, stop, alpha,
                             ctx=ctx)


def result_bytes(result) -> int:
    if hasattr(result, "original_map"):
        return result.original_map.nbytes + result.class_map.nbytes + result.confidence.nbytes
    return 256 + result.boxes.nbytes * 4 + (0 if result.masks is None else result.masks.nbytes)


def in_input_pixels(result):
    """The same result drawn on the picture the model saw (its input size)."""
    if hasattr(result, "boxes"):
        return replace(result, image_size=result.input_size)
    return replace(result, original_map=result.class_map)


class DenseOverlay:
    """Owned by the Video panel; ``box`` is its group of controls."""

    def __init__(self, panel):
        self.panel = panel
        self.model = None
        self.cache: OrderedDict[int, object] = OrderedDict()
        self.cached_bytes = 0
        self.busy = False
        self.wanted: tuple[int, np.ndarray] | None = None
        self.frame_ms: float | None = None  # one frame on demand, smoothed
        self.run_fps: tuple[float, float] | None = None  # (model fps, job fps) of a Run
        self._tracks: dict[int, np.ndarray] | None = None
        self.box = self._build()
        self.box.setVisible(False)

    def _build(self) -> QGroupBox:
        self.about = QLabel("")
        self.about.setWordWrap(True)
        self.threshold = QDoubleSpinBox(minimum=0.0, maximum=1.0, value=0.5, singleStep=0.05,
                                        decimals=2)
        self.threshold.setToolTip("boxes scoring at least this are drawn (no new model run)")
        self.threshold.valueChanged.connect(self._changed)
        self.track = QCheckBox("Track identities")
        self.track.setToolTip("follow each box from frame to frame (IoU matching, same "
                              "class) and draw its id; over the frames computed, in order")
        self.track.toggled.connect(self._changed)
        self.alpha = QDoubleSpinBox(minimum=0.05, maximum=1.0, value=0.5, singleStep=0.05)
        self.alpha.setToolTip("how strongly the class colours cover the frame")
        self.alpha.valueChanged.connect(self._changed)
        self.export_button = button("Export annotated MP4…", "every frame of the range with "
                                    "its boxes or masks drawn (MP4 or GIF)", self.export,
                                    "exportDenseVideo")
        self.now = QLabel("")
        self.now.setWordWrap(True)
        self.now.setObjectName("denseNow")
        self.speed = QLabel("")
        self.speed.setWordWrap(True)
        self.speed.setObjectName("denseSpeed")
        self.legend = Legend("Classes in the frame")
        self.legend.setMaximumHeight(LEGEND_HEIGHT)
        box = form_box("Boxes and masks", self.about, ("Score ≥", self.threshold),
                       self.track, ("Opacity", self.alpha), self.now, self.legend,
                       self.speed, self.export_button)
        self.form = box.layout()
        return box

    # ------------------------------------------------------------------ model
    def active(self) -> bool:
        from workbench.core.video.dense import DENSE_TASKS

        return self.model is not None and self.model.task in DENSE_TASKS \
            and self.model.kind != "video"

    def set_model(self, model) -> None:
        self.model = model
        self.clear()
        self.frame_ms = self.run_fps = None
        detector = model is not None and model.task == "detection"
        self.box.setVisible(self.active())
        for widget in (self.threshold, self.track):
            self.form.setRowVisible(widget, detector)
        self.form.setRowVisible(self.alpha, not detector)
        if self.active():
            what = "boxes" if detector else "a class map"
            self.about.setText(f"{model.name} is a {model.task} model: each frame shows "
                               f"{what} as it is shown; Run computes every sampled frame "
                               "ahead")
        self._speed_text()

    def clear(self) -> None:
        """Forget every frame (a new video or model)."""
        self.cache.clear()
        self.cached_bytes = 0
        self.wanted = None
        self._tracks = None
        self.now.setText("")
        self.legend.set_entries([])

    # -------------------------------------------------------------- requests
    def show(self, index: int) -> None:
        """The player shows frame ``index``: draw it, or ask the model for it."""
        if not self.active():
            return
        frame = self.panel.player.frame
        if index in self.cache:
            self.cache.move_to_end(index)
            self.draw()
        elif frame is not None:
            self.request(index, frame)

    def request(self, index: int, frame: np.ndarray) -> None:
        if self.busy:
            self.wanted = (index, frame)  # latest wins: the previous wish is dropped
            return
        self.busy, self.wanted = True, None
        runner = self.panel.runner
        runner.submit(partial(dense_frame_job, self.model, index, frame),
                      name="Boxes of the frame", key="video-dense-frame",
                      on_finished=self._arrived, on_error=self._failed,
                      on_cancelled=self._idle)

    def _idle(self) -> None:
        self.busy = False
        self._next()

    def _failed(self, message: str) -> None:
        self.busy, self.wanted = False, None
        self.panel.state.error(message)

    def _arrived(self, answer) -> None:
        model, index, result, seconds = answer
        self.busy = False
        if model is self.model:
            ms = seconds * 1000.0
            self.frame_ms = ms if self.frame_ms is None else \
                FPS_SMOOTHING * ms + (1 - FPS_SMOOTHING) * self.frame_ms
            self.remember({index: result})
            if index == self.panel.player.index:
                self.draw()
            self._speed_text()
        self._next()

    def _next(self) -> None:
        wanted, self.wanted = self.wanted, None
        if wanted is not None and wanted[0] not in self.cache \
                and wanted[0] == self.panel.player.index:
            self.request(*wanted)
        elif wanted is None and self.panel.player.index not in self.cache:
            self.show(self.panel.player.index)

    def remember(self, frames: dict) -> None:
        for index, result in frames.items():
            if index in self.cache:
                self.cached_bytes -= result_bytes(self.cache.pop(index))
            self.cache[int(index)] = result
            self.cached_bytes += result_bytes(result)
        while self.cached_bytes > CACHE_MB * 2**20 and len(self.cache) > 1:
            self.cached_bytes -= result_bytes(self.cache.popitem(last=False)[1])
        self._tracks = None

    # ------------------------------------------------------------------- Run
    def run(self, indices) -> None:
        """Every frame of ``indices`` in batches (the cached ones skipped)."""
        panel = self.panel
        panel.status.setText(f"boxes of {len(indices)} frames …")
        panel._handle = panel.runner.submit(
            partial(dense_run_job, self.model, panel.path, indices, set(self.cache)),
            name="Per-frame detection" if self.model.task == "detection"
            else "Per-frame segmentation", key="video-dense",
            on_partial=self._batch, on_finished=self._ran,
            on_cancelled=lambda: panel.status.setText("stopped"), on_error=panel.state.error)

    def _batch(self, part) -> None:
        self.remember(part.frames)
        self.run_fps = (part.model_fps, part.fps)
        self.panel.status.setText(f"running: {part.done} of {len(part.indices)} frames")
        self._speed_text()
        if self.panel.player.index in part.frames:
            self.draw()

    def _ran(self, result) -> None:
        if result.counted:
            self.run_fps = (result.model_fps, result.fps)
        self.panel.status.setText(f"done: {result.done} of {len(result.indices)} frames")
        self._speed_text()
        self.draw()

    # ------------------------------------------------------------------ draw
    def _changed(self, *_args) -> None:
        self._tracks = None
        self.draw()

    def track_ids(self, index: int):
        """Track ids of frame ``index``'s detections, tracking the cached frames in order."""
        if not self.track.isChecked() or self.model.task != "detection":
            return None
        if self._tracks is None:
            from workbench.core.tasks.tracking import track_detections

            order = sorted(self.cache)
            ids = track_detections([self.cache[i] for i in order], self.threshold.value())
            self._tracks = dict(zip(order, ids, strict=True))
        return self._tracks.get(index)

    def draw(self) -> None:
        """The frame on screen with its result over it (raw frame and the model's view)."""
        from workbench.core.video.dense_export import annotate_frame

        player = self.panel.player
        result = self.cache.get(player.index)
        if not self.active() or result is None or player.frame is None:
            return
        threshold, alpha = self.threshold.value(), self.alpha.value()
        ids = self.track_ids(player.index)
        player.raw_view.set_image(annotate_frame(player.frame, result, threshold, ids, alpha))
        seen = player.seen
        if seen is not None and seen.shape[:2] == tuple(self.model.input_size):
            player.model_view.set_image(annotate_frame(seen, in_input_pixels(result),
                                                       threshold, ids, alpha, tags=False))
        self.now.setText(self._describe(player.index, result, threshold))
        self.legend.set_entries(self._legend(result, threshold))

    def _describe(self, index: int, result, threshold: float) -> str:
        if hasattr(result, "boxes"):
            shown = int((result.scores >= threshold).sum())
            return f"<b>Frame {index}</b>: {shown} box{'es' * (shown != 1)} scoring " \
                   f"≥ {threshold:.2f}"
        from workbench.io.annotate import background_classes

        clear = {result.label_names[i] for i in background_classes(result.label_names)}
        parts = [f"{name} {share:.0%}" for name, share in result.shares().items()
                 if name not in clear][:4]
        return f"<b>Frame {index}</b>: " + (", ".join(parts) or "background only")

    def _legend(self, result, threshold: float) -> list:
        from workbench.io.palette import categorical

        names = result.label_names
        colours = categorical(max(1, len(names)))
        if hasattr(result, "boxes"):
            labels = result.labels[result.scores >= threshold]
            present = sorted({int(c) for c in labels})
            counts = {c: int((labels == c).sum()) for c in present}
        else:
            from workbench.io.annotate import background_classes

            counts = {int(c): None for c in np.unique(result.original_map)
                      if int(c) not in background_classes(names)}
            present = sorted(counts)
        return [(c, names[c] if c < len(names) else f"class {c}", colours[c % len(colours)],
                 counts[c]) for c in present]

    def _speed_text(self) -> None:
        if not self.active():
            self.speed.setText("")
            return
        parts = []
        if self.frame_ms is not None:
            parts.append(f"one frame: {self.frame_ms:.0f} ms ({1000 / max(self.frame_ms, 1e-6):.0f}"
                         " fps)")
        if self.run_fps is not None and np.isfinite(self.run_fps[0]):
            parts.append(f"batched: {self.run_fps[0]:.0f} fps in the model, "
                         f"{self.run_fps[1]:.0f} fps with decoding")
        self.speed.setText("Speed · " + " · ".join(parts) if parts else "")

    # ---------------------------------------------------------------- export
    def export(self, path: str | None = None, on_done=None) -> str | None:
        panel = self.panel
        if not self.active() or panel.path is None:
            panel.state.error("Open a video and load a detector or a segmenter first")
            return None
        path = path or panel.ask_path("Export the annotated video", "annotated.mp4",
                                      "MP4 video (*.mp4);;GIF animation (*.gif)")
        if not path:
            return None
        if not path.lower().endswith((".mp4", ".gif")):
            path += ".mp4"
        panel._handle = panel.runner.submit(
            partial(dense_export_job, path, panel.path, self.model, self.threshold.value(),
                    self.track.isChecked(), dict(self.cache), panel.first.value(),
                    panel.last.value() + 1, self.alpha.value()),
            name="Writing the annotated video", key="video-dense-export",
            on_finished=lambda _p: (panel.state.info(f"Saved {path}"),
                                    on_done and on_done(path)),
            on_cancelled=lambda: panel.status.setText("export stopped"),
            on_error=panel.state.error)
        return path
