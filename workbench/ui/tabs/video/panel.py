"""The Video tab: play a video, classify every sampled frame with an image model — or
sliding clips with a clip model — and combine them over time (mean, sliding window,
moving average, vote), follow the classes on a timeline, play per-frame or
spatiotemporal maps with the video, and export it all."""

from __future__ import annotations

from functools import partial

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QTabWidget, QVBoxLayout, QWidget

from workbench.ui.tabs.base import TaskPanel
from workbench.ui.tabs.video.controls import build_controls
from workbench.ui.tabs.video.dense_overlay import DenseOverlay
from workbench.ui.tabs.video.exports import VideoExports
from workbench.ui.tabs.video.jobs import (
    clip_predictions_job,
    nearest_row,
    open_job,
    predictions_job,
)
from workbench.ui.tabs.video.live_page import LivePage
from workbench.ui.tabs.video.maps import VideoMaps
from workbench.ui.tabs.video.moments import VideoMoments
from workbench.ui.tabs.video.player import Player
from workbench.ui.tabs.video.timeline import Timeline
from workbench.ui.widgets.forms import split
from workbench.ui.widgets.legend import Legend

REDRAW_MS = 200
TIMELINE_CLASSES = 5
KEYS = (("Space", "toggle"), ("Left", "back"), ("Right", "on"), ("Home", "home"),
        ("End", "end"))


class VideoPanel(VideoMaps, VideoMoments, VideoExports, TaskPanel):
    title = "Video"

    def __init__(self, state, runner, io_runner=None, parent=None):
        super().__init__(state, runner, parent)
        self.setObjectName("VideoPanel")
        self.io_runner = io_runner or runner
        self.path, self.info = None, None
        self.predictions = None  # FramePredictions (possibly partial)
        self.predictions_path = self.predictions_model = None  # what they were computed on
        self.predictions_done = False  # every sampled frame (or clip) predicted
        self.smoothed = self.video_probs = None
        self.maps = None  # FrameMaps
        self.map_limits: tuple[float, float] | None = None  # the maps' range so far
        self.followed: list[int] = []  # classes the user added to the timeline
        self.moments_result = None  # TemporalOcclusionResult of the clip shown
        self._moment_indices = np.zeros(0, np.int64)
        self._drop_entry = None
        self._handle = None
        self.player = Player(state, self.io_runner)
        self.player.frame_shown.connect(self._on_frame)
        self.timeline = Timeline()
        self.timeline.seek.connect(self.player.seek_time)
        self.legend = Legend("Classes")
        views = split(True, self.player, split(False, self.timeline, self.legend,
                                               stretch=(4, 1)), stretch=(3, 2))
        self.dense = DenseOverlay(self)  # boxes and masks of a detector or segmenter
        file_page = QWidget()
        self.lay_out(views, build_controls(self), host=file_page)
        self.live = LivePage(runner)
        self.live.frozen.connect(self._frozen)
        state.model_changed.connect(self.live.set_model)
        self.modes = QTabWidget()
        self.modes.setObjectName("videoModes")
        self.modes.addTab(file_page, "Video file")
        self.modes.addTab(self.live, "Live")
        self.modes.setTabToolTip(1, "a camera, or a video file played live: the newest frame "
                                    "is predicted, stale frames are dropped")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.modes)
        self.add_shortcuts(run=self.run_button, stop=self.stop_button,
                           export=self.timeline_button)
        self._keys()
        self._redraw = QTimer(self, singleShot=True, interval=REDRAW_MS,
                              timeout=self._draw_predictions)
        self.on_aggregation()
        state.video_changed.connect(self._on_video)
        state.model_changed.connect(self._on_model)

    def _keys(self) -> None:
        actions = {"toggle": self.player.toggle, "back": lambda: self.player.step(-1),
                   "on": lambda: self.player.step(1), "home": lambda: self.player.seek_index(0),
                   "end": lambda: self.player.seek_index(-1)}
        for keys, name in KEYS:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(actions[name])
            shortcut.setWhatsThis({"toggle": "Play / pause", "back": "Previous frame",
                                   "on": "Next frame", "home": "First frame",
                                   "end": "Last frame"}[name])

    # ------------------------------------------------------------------ inputs
    def current_layer(self) -> str | None:
        return self.layer.layer()

    def choose_layer(self, name: str) -> None:
        self.layer.choose(name)

    def is_clip_model(self) -> bool:
        model = self.state.model
        return model is not None and model.kind == "video"

    def _show_clip_rows(self) -> None:
        """Clip models take clips (frames × step, a new one every stride frames); image
        models take sampled frames."""
        clips, form = self.is_clip_model(), self.frames_form
        self.on_method()
        form.setRowVisible(self.every, not clips)
        for widget in (self.clip_about, self.clip_step, self.clip_stride):
            form.setRowVisible(widget, clips)
        if not clips:
            self.run_button.setToolTip("predict the sampled frames (batched on the worker)")
            return
        from workbench.core.video.clips import default_step

        model = self.state.model
        step = default_step(model, self.info.fps) if self.info else 1
        self.clip_step.setValue(step)
        self.clip_stride.setValue(model.num_frames * step)
        rate = model.extras.get("frame_rate")
        self.clip_about.setText(f"{model.name} is a clip model: {model.num_frames} frames a "
                                "clip" + (f", trained at {rate:g} fps" if rate else ""))
        self.run_button.setToolTip("predict every clip (batched on the worker)")

    def clip_spec(self):
        from workbench.core.video.clips import ClipSpec

        return ClipSpec(self.state.model.num_frames, self.clip_step.value(),
                        self.clip_stride.value())

    def _on_model(self, model) -> None:
        self.predictions = self.maps = None
        self.predictions_done = False
        self._clear_moments()
        self._show_clip_rows()
        self._show_dense(model)
        self.layer.set_model(model)
        self.followed = []
        if model is not None:
            self.extra_class.set_labels(model.labels)
            self.map_target.set_labels(model.labels)
        if model is not None and not self.method.count():
            from workbench.core.attribution import METHOD_ORDER, METHODS

            for name in METHOD_ORDER:
                self.method.addItem(METHODS[name].title, name)
        self.on_method()
        self._draw_predictions()
        if self.path is not None:
            self.player.seek_index(self.player.index)
        self._demo_if_ready()

    def _show_dense(self, model) -> None:
        """A detector or segmenter: its box instead of the classification ones."""
        self.dense.set_model(model)
        dense = self.dense.active()
        for box in self.class_boxes:
            box.setVisible(not dense)
        self.timeline.parentWidget().setVisible(not dense)  # the timeline and its legend
        if dense:
            self.every.setValue(1)

    def _on_video(self, path) -> None:
        if path is None:
            return
        self.io_runner.submit(partial(open_job, path), name="Opening the video",
                              key="video-open", on_finished=partial(self._opened, path),
                              on_error=self.state.error)

    def _opened(self, path, info) -> None:
        from workbench.io.samples import credit_for

        self.path, self.info = path, info
        self.predictions = self.maps = None
        self.predictions_done = False
        self._clear_moments()
        self.dense.clear()
        self.timeline.plot_probabilities(np.zeros(0), np.zeros((0, 1)), [], [])
        self.legend.set_entries([])
        rate = f"{info.fps:.2f} fps" + (" (variable)" if info.variable_fps else "")
        turned = f" · turned {info.rotation}°" if info.rotation else ""
        credit = credit_for(path)
        self.about.setText(f"<b>{path.rsplit('/', 1)[-1]}</b><br>{info.codec} · {info.width}×"
                           f"{info.height} · {rate} · {info.frame_count} frames · "
                           f"{info.duration:.1f} s{turned}" + (f"<br><i>{credit}</i>"
                                                               if credit else ""))
        self.every.setValue(1 if self.dense.active() else max(1, round(info.fps / 2)))
        for spin in (self.first, self.last):
            spin.setMaximum(info.frame_count - 1)
        self.first.setValue(0)
        self.last.setValue(info.frame_count - 1)
        self.status.setText("Press Run to predict the sampled frames.")
        self._show_clip_rows()
        self.live.set_video_path(path)
        self.player.set_video(path, info)
        self._demo_if_ready()

    def refresh_now(self) -> None:
        """Nothing is computed on show: playing and Run do the work."""

    # ----------------------------------------------------------- predictions
    def sampled(self) -> np.ndarray:
        from workbench.core.video import sampled_frames

        return sampled_frames(self.info, self.every.value(), start=self.first.value(),
                              stop=self.last.value() + 1)

    def _frames_to_run(self):
        """The sampled frames, or ``None`` (and why) when there is nothing to run on."""
        from workbench.errors import WorkbenchError

        if self.state.model is None or self.path is None:
            self.state.error("Open a video first (and wait for the model)")
            return None
        try:
            return self.sampled()
        except WorkbenchError as exc:
            self.state.error(str(exc))
            return None

    def _job_for_predictions(self):
        """``(job, name, what)`` for Run: per-frame predictions, or clips for a clip model."""
        model, indices = self.state.model, self._frames_to_run()
        if indices is None:
            return None
        if self.is_clip_model():
            return (partial(clip_predictions_job, model, self.path, self.clip_spec(),
                            self.first.value(), self.last.value() + 1),
                    "Clip predictions", "clips")
        return (partial(predictions_job, model, self.path, indices), "Per-frame predictions",
                f"{len(indices)} frames")

    def run_predictions(self) -> None:
        if self.dense.active():  # boxes or masks of every sampled frame
            indices = self._frames_to_run()
            if indices is not None:
                self.dense.run(indices)
            return
        planned = self._job_for_predictions()
        if planned is None:
            return
        job, name, what = planned
        self.predictions_path, self.predictions_model = self.path, self.state.model
        self.predictions_done = False
        self.status.setText(f"predicting {what} …")
        self._handle = self.runner.submit(
            job, name=name,
            key="video-predictions", on_partial=self._queue, on_finished=self._done,
            on_cancelled=lambda: self.status.setText(self._progress_text("stopped")),
            on_error=self.state.error)

    def stop(self) -> None:
        if self._handle is not None:
            self.runner.cancel(self._handle)

    def _queue(self, result) -> None:
        self.predictions = result
        if not self._redraw.isActive():
            self._redraw.start()

    def _done(self, result) -> None:
        self._redraw.stop()
        self.predictions = result
        self.predictions_done = result.done == len(result.indices)
        self._draw_predictions()
        self.status.setText(self._progress_text("done"))

    def finished_predictions(self):
        """``(predictions, video path, model)`` of a finished timeline, or ``None``."""
        if self.predictions is None or not self.predictions_done:
            return None
        return self.predictions, self.predictions_path, self.predictions_model

    def _progress_text(self, word: str) -> str:
        result = self.predictions
        if result is None:
            return word
        cached = f" ({result.from_cache} from the cache)" if result.from_cache else ""
        unit = "clips" if hasattr(result, "starts") else "frames"
        return f"{word}: {result.done} of {len(result.indices)} {unit}{cached}"

    def on_aggregation(self, *_args) -> None:
        name = self.aggregation.currentData()
        self.window_size.setEnabled(name == "window")
        self.alpha.setEnabled(name == "ema")
        self._draw_predictions()

    def add_class(self) -> None:
        """Follow one more class on the timeline (besides the video's top classes)."""
        index = self.extra_class.index_value()
        if index not in self.followed:
            self.followed.append(index)
        self._draw_predictions()

    def aggregation_text(self) -> str:
        name = self.aggregation.currentData()
        return {"window": f"window:{self.window_size.value()}",
                "ema": f"ema:{self.alpha.value():g}"}.get(name, name)

    def _draw_predictions(self) -> None:
        result, model = self.predictions, self.state.model
        if result is None or model is None or result.done == 0:
            return
        from workbench.core.video import aggregate, mean_formula, parse_aggregation

        done = result.complete
        probs = result.probs[done]
        self.smoothed, self.video_probs = aggregate(probs, *parse_aggregation(
            self.aggregation_text()))
        order = [int(i) for i in np.argsort(-self.video_probs)[:TIMELINE_CLASSES]]
        shown = order + [c for c in self.followed if c not in order]
        entries = self.timeline.plot_probabilities(result.times, result.probs, shown,
                                                   model.labels)
        self.legend.set_entries(entries + ([self._drop_entry] if self._drop_entry else []))
        rows = "<br>".join(f"{model.label(i)} · {self.video_probs[i]:.1%}" for i in order)
        self.video_top.setText(f"<b>The video</b> ({self.aggregation.currentText()}):<br>"
                               f"{rows}")
        self.formula.setText(mean_formula(probs, order[0], model.label(order[0])))
        self.status.setText(self._progress_text("running"))
        self._show_now(self.player.index)

    # ------------------------------------------------------------- the frame
    def _on_frame(self, index: int, seconds: float) -> None:
        self.timeline.set_time(seconds)
        self._show_now(index)
        self.show_map()
        self.dense.show(index)

    def _show_now(self, index: int) -> None:
        result, model = self.predictions, self.state.model
        if result is None or model is None or self.smoothed is None:
            self.now.setText("")
            return
        done = np.flatnonzero(result.complete)
        row = nearest_row(result.indices[done], index)
        raw, calm = result.probs[done[row]], self.smoothed[row]
        where = (f"Clip from frame {result.starts[done[row]]}" if hasattr(result, "starts")
                 else f"Frame {result.indices[done[row]]}")
        self.now.setText(f"<b>{where}</b>: "
                         f"{model.label(int(raw.argmax()))} {raw.max():.1%} · smoothed: "
                         f"{model.label(int(calm.argmax()))} {calm.max():.1%}")

    # ----------------------------------------------------------------- frame
    def frame_to_inputs(self) -> None:
        from workbench.ui.tabs.video.jobs import frame_job

        dock = getattr(self.window(), "inputs", None)
        if self.path is None or dock is None:
            return
        index, name = self.player.index, self.path.rsplit("/", 1)[-1]
        self.io_runner.submit(partial(frame_job, self.path, index), name="Frame to Inputs",
                              on_finished=lambda image: dock.add_array(
                                  image, f"{name} · frame {index}"),
                              on_error=self.state.error)

    def _frozen(self, image, name: str) -> None:
        """A live frame frozen into the Inputs dock, for every other tab."""
        dock = getattr(self.window(), "inputs", None)
        if dock is not None:
            dock.add_array(image, name, select=True)

    def ask_path(self, title: str, default: str, pattern: str) -> str:
        return QFileDialog.getSaveFileName(self, title, default, pattern)[0]

    def demo_when_ready(self, model_prefix: str, video_name: str) -> None:
        """Run :meth:`demo` once the video ``video_name`` is open and a model named
        ``model_prefix…`` has loaded (the Samples menu's lessons: both arrive in their own
        time)."""
        self._demo_for = (model_prefix, video_name)
        self._demo_if_ready()

    def _demo_if_ready(self) -> None:
        model, wanted = self.state.model, getattr(self, "_demo_for", None)
        if wanted is None or model is None or self.info is None:
            return
        prefix, video_name = wanted
        if model.name.startswith(prefix) and self.path.rsplit("/", 1)[-1] == video_name:
            self._demo_for = None
            QTimer.singleShot(0, self.demo)

    def demo(self) -> None:
        """For screenshots and lessons: predict the sampled frames, then map them (a
        detector's or segmenter's frames show their boxes or masks instead)."""
        self.run_predictions()
        if not self.dense.active():
            self.run_maps()
