"""The Feature visualization tab: watch an image form live while it is optimized to excite a
unit, steer it mid-run, and compare it with the dataset images that excite the unit most."""

from __future__ import annotations

import json
from functools import partial

import pyqtgraph as pg
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QGridLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QWidget,
)

from workbench.ui.tabs.base import TaskPanel
from workbench.ui.tabs.featviz.channel_mosaic import ChannelMosaic
from workbench.ui.tabs.featviz.controls import build_controls, build_gallery
from workbench.ui.tabs.featviz.jobs import channels_job, examples_job, featviz_job, load_images_job
from workbench.ui.theme import current_theme
from workbench.ui.widgets.forms import column, split
from workbench.ui.widgets.image_view import ImageView

PLOT_MIN_HEIGHT = 110


class FeatureVizPanel(TaskPanel):
    title = "Feature visualization"

    def __init__(self, state, runner, parent=None):
        super().__init__(state, runner, parent)
        self.setObjectName("FeatureVizPanel")
        self.config = None  # FeatureVizConfig shared with the running job (live edits)
        self.session: dict | None = None  # the optimizer state kept for pause / resume
        self.snapshot = None
        self.frames = 0
        self.history: list[tuple[int, float]] = []
        self.recipe: dict = {}
        self.run_model = None  # the model of the last run
        self.finished = False  # the last run reached its steps, its settings unchanged
        self.examples = []
        self._handle = None
        self._running = False
        self._paused = False
        self.views = QWidget()
        self.views_layout = QGridLayout(self.views)
        self.views_layout.setContentsMargins(0, 0, 0, 0)
        self.result_views: list[ImageView] = []
        self.curve_plot = pg.PlotWidget()
        self.curve_plot.setLabel("bottom", "step")
        self.curve_plot.setLabel("left", "objective")
        self.curve_plot.setMinimumHeight(PLOT_MIN_HEIGHT)
        self.curve = self.curve_plot.plot(pen=pg.mkPen(current_theme().colors["bar_top"],
                                                        width=current_theme().pen_width(2)))
        self.status = QLabel("Pick a unit and press Run.")
        self.status.setWordWrap(True)
        self.mosaic = ChannelMosaic()
        self.mosaic.channel_clicked.connect(self._on_channel_clicked)
        self.gallery = build_gallery(self)
        tabs = QTabWidget()
        live = split(True, self.views, column((self.curve_plot, 1), self.status),
                     stretch=(4, 1))
        tabs.addTab(live, "Optimization")
        tabs.addTab(self.mosaic, "Channels")
        tabs.addTab(self.gallery, "Dataset examples")
        self.view_tabs = tabs
        self.lay_out(tabs, build_controls(self))
        self.add_shortcuts(run=self.run_button, stop=self.stop_button)
        self._set_batch_views(1)
        self.on_kind(self.kind.currentText())
        state.model_changed.connect(self._on_model)

    def _set_batch_views(self, count: int) -> None:
        while len(self.result_views) > count:
            self.views_layout.removeWidget(self.result_views[-1])
            self.result_views.pop().deleteLater()
        for buttons in self.views.findChildren(QPushButton):
            buttons.deleteLater()
        while len(self.result_views) < count:
            view = ImageView(title=" ")
            self.result_views.append(view)
        columns = 2 if count == 4 else count
        for index, view in enumerate(self.result_views):
            row, column = divmod(index, columns)
            self.views_layout.addWidget(view, 2 * row, column)
            self.views_layout.setColumnStretch(column, 1)
            self.views_layout.setRowStretch(2 * row, 1)
            save = QPushButton("Save PNG…")
            save.setToolTip("this image with its recipe in the PNG's text")
            save.clicked.connect(partial(self.save_image, index))
            self.views_layout.addWidget(save, 2 * row + 1, column)

    # ------------------------------------------------------------------ inputs
    def _on_model(self, model) -> None:
        self.stop()
        self.layer.set_model(model)
        if model is None:
            self.class_box.clear()
            return
        from workbench.core.featureviz import FeatureVizConfig

        self.live_form.set_params(FeatureVizConfig)
        self.class_box.set_labels(model.labels)
        self.update_channel_range()

    def on_theme(self, _theme) -> None:
        """Curves keep room for their axes in the theme's font."""
        line = QFontMetrics(QApplication.font()).height()
        self.curve_plot.setMinimumHeight(max(PLOT_MIN_HEIGHT, 7 * line))

    def model(self):
        """The model to visualize: a detector or segmenter seen through its target, so a
        class objective means that detection or region (channels are the same either way)."""
        return self.state.job_model() or self.state.model

    def current_layer(self) -> str | None:
        return self.layer.layer()

    def choose_layer(self, name: str) -> None:
        self.layer.choose(name)

    def _update_channel_range(self) -> None:
        self.update_channel_range()

    def update_channel_range(self) -> None:
        model, name = self.model(), self.layer.currentData()
        if model is None or not name:
            return
        info = model.layer_info(name)
        self.channel.setMaximum(max(0, (info.channels or 1) - 1))
        if len(info.grid) >= 2:
            rows, cols = info.grid[-2:]
            self.neuron_x.setMaximum(cols - 1)
            self.neuron_y.setMaximum(rows - 1)
            self.neuron_x.setValue(cols // 2)
            self.neuron_y.setValue(rows // 2)

    def on_kind(self, kind: str) -> None:
        self.channel.setEnabled(kind in ("channel", "neuron"))
        self.neuron_x.setEnabled(kind == "neuron")
        self.neuron_y.setEnabled(kind == "neuron")
        self.class_box.setEnabled(kind.startswith("class"))
        self.layer.setEnabled(not kind.startswith("class"))

    def show_channel(self, layer: str, channel: int) -> None:
        """Set up the visualization of ``channel`` of ``layer`` (from another tab)."""
        self.choose_layer(layer)
        self._on_channel_clicked(channel)

    def _on_channel_clicked(self, index: int) -> None:
        self.kind.setCurrentText("channel")
        self.channel.setValue(index)
        self.view_tabs.setCurrentIndex(0)

    def objective(self):
        from workbench.core.featureviz import (
            Channel,
            ClassLogit,
            ClassProbability,
            Diversity,
            LayerDream,
            Neuron,
        )

        kind, layer = self.kind.currentText(), self.layer.currentData()
        class_index = self.class_box.index_value()
        objective = {
            "channel": lambda: Channel(layer, self.channel.value()),
            "neuron": lambda: Neuron(layer, self.channel.value(), self.neuron_x.value(),
                                     self.neuron_y.value()),
            "deepdream": lambda: LayerDream(layer),
            "class logit": lambda: ClassLogit(class_index),
            "class probability": lambda: ClassProbability(class_index),
        }[kind]()
        if self.negative.isChecked():
            objective = -objective
        if self.diversity.value() > 0 and self.batch.value() > 1:
            objective = objective + self.diversity.value() * Diversity(
                layer or self.state.model.default_cam_layer)
        return objective

    # ------------------------------------------------------------------- run
    def _new_config(self):
        from workbench.core.featureviz import FeatureVizConfig
        from workbench.core.params import make

        return make(FeatureVizConfig, self.live_form.values())

    def push_live_config(self) -> None:
        """Copy the form into the running job's config object (read at every step)."""
        if self.config is None:
            return
        values = self.live_form.values()
        if any(getattr(self.config, name) != value for name, value in values.items()):
            self.finished = False
            self.recipe["edited"] = True  # changed mid-run: no longer one recipe
        for name, value in values.items():
            setattr(self.config, name, value)

    def run(self) -> None:
        from workbench.errors import WorkbenchError

        model = self.model()
        if model is None:
            return
        try:
            objective = self.objective()
            self.config = self._new_config()
        except WorkbenchError as exc:
            self.state.error(str(exc))
            return
        self.session = {"target_steps": self.steps.value()}
        self.history, self.frames = [], 0
        self.run_model, self.finished, self._objective = model, False, objective
        self.recipe = {"model": model.name, "weights": model.source,
                       "objective": objective.description, "size": self.size_spin.value(),
                       "images": self.batch.value(), "seed": self.seed.value(),
                       "start": self.start_from.currentText()}
        self._set_batch_views(self.batch.value())
        self._submit(objective, self.steps.value())

    def _submit(self, objective, steps: int) -> None:
        model = self.model()
        start = self.state.image if self.start_from.currentText() == "current image" else None
        self._objective = objective
        self._running, self._paused = True, False
        self.pause_button.setText("Pause")
        self._handle = self.runner.submit(
            partial(featviz_job, model, objective, self.config, steps, self.batch.value(),
                    self.size_spin.value(), self.seed.value(), start, self.session),
            name="Feature visualization", key="featviz", on_partial=self._on_frame,
            on_finished=self._on_done, on_cancelled=self._on_stopped,
            on_error=self._on_error)

    def toggle_pause(self) -> None:
        if self._running and not self._paused:
            self._paused = True
            self.runner.cancel(self._handle)
            self.pause_button.setText("Resume")
        elif self._paused and self.session is not None and "image" in self.session:
            done = self.session.get("step", 0)
            remaining = max(1, self.session["target_steps"] - done)
            self._submit(self._objective, remaining)

    def stop(self) -> None:
        self._paused = False
        if self._handle is not None:
            self.runner.cancel(self._handle)
        self._running = False
        self.session = None
        self.pause_button.setText("Pause")

    def _on_frame(self, snapshot) -> None:
        self.snapshot = snapshot
        self.frames += 1
        for view, picture in zip(self.result_views, snapshot.images, strict=False):
            view.set_image(picture)
            view.set_title(f"step {snapshot.step}")
        self.history.append((snapshot.step, float(snapshot.values.mean())))
        steps, values = zip(*self.history, strict=True)
        self.curve.setData(list(steps), list(values))
        self.status.setText(f"step {snapshot.step} · objective {snapshot.values.mean():.3f} · "
                            f"{snapshot.steps_per_second:.1f} steps/s")

    def _on_done(self, snapshot) -> None:
        if snapshot is not None:
            self._on_frame(snapshot)
        self._running = False
        target = (self.session or {}).get("target_steps", 0)
        self.finished = (snapshot is not None and snapshot.step >= target
                         and not self.recipe.get("edited"))
        self.status.setText(self.status.text() + " · done")

    def _on_stopped(self) -> None:
        if self._paused:
            self.status.setText(self.status.text().split(" · paused")[0] + " · paused")
        else:
            self._running = False
            self.status.setText(self.status.text() + " · stopped")

    def _on_error(self, message: str) -> None:
        self._running = False
        self.status.setText(message)
        self.state.error(message)

    def last_run(self) -> dict | None:
        """The finished run on screen and its recipe (model, objective, config values, steps,
        size, seed, images, start, snapshot), or ``None``."""
        from dataclasses import asdict

        if not self.finished or self._running or self.snapshot is None or self.config is None:
            return None
        return {**{k: self.recipe.get(k) for k in ("size", "seed", "images", "start")},
                "model": self.run_model, "objective": self._objective, "snapshot": self.snapshot,
                "config": asdict(self.config), "steps": int(self.snapshot.step)}

    # ------------------------------------------------------------ save, units
    def save_image(self, index: int, path: str | None = None) -> str | None:
        from workbench.io.export import save_png

        if self.snapshot is None or index >= len(self.snapshot.images):
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save image", "featviz.png",
                                                  "PNG (*.png)")
        if not path:
            return None
        recipe = {**self.recipe, "steps": self.snapshot.step, "image": index,
                  "objective_value": float(self.snapshot.values[index]),
                  "settings": self.live_form.values()}
        save_png(path, self.snapshot.images[index], {"Recipe": json.dumps(recipe),
                                                     "Caption": self.caption()})
        self.state.info(f"Saved {path}")
        return path

    def show_channels(self) -> None:
        model, image, layer = self.model(), self.state.image, self.layer.currentData()
        if model is None or image is None or not layer:
            self.state.error("Open an image to see the layer's channels")
            return
        self.view_tabs.setCurrentIndex(1)
        self.runner.submit(partial(channels_job, model, image, layer), name="Layer channels",
                           key="featviz-channels",
                           on_finished=partial(self.mosaic.show_channels, layer=layer),
                           on_error=self.state.error)

    def examples_from_inputs(self) -> None:
        dock = getattr(self.window(), "inputs", None)
        records = list(dock.records.values()) if dock is not None else []
        arrays = [r.image for r in records if r.image is not None]
        paths = [r.path for r in records if r.path]
        self._examples_for(paths, arrays)

    def examples_from_folder(self, folder: str | None = None) -> None:
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Dataset folder")
        if folder:
            self._examples_for([folder], [])

    def _examples_for(self, paths, arrays) -> None:
        model, layer = self.model(), self.layer.currentData()
        if model is None or not layer:
            return
        channel = self.channel.value()
        self.view_tabs.setCurrentIndex(2)
        self.examples_status.setText("reading images …")

        def loaded(result):
            images, names, skipped = result
            images = list(arrays) + images
            names = [f"input {i + 1}" for i in range(len(arrays))] + names
            if skipped:
                self.state.error(f"Skipped {len(skipped)} unreadable files: {skipped[0]}")
            if not images:
                self.examples_status.setText("No readable images.")
                return
            self.runner.submit(partial(examples_job, model, images, layer, channel),
                               name="Dataset examples", key="featviz-examples",
                               on_finished=partial(self._show_examples, layer, channel, names),
                               on_error=self.state.error)

        self.runner.submit(partial(load_images_job, paths), name="Reading images",
                           key="featviz-read", on_finished=loaded, on_error=self.state.error)

    def _show_examples(self, layer, channel, names, examples) -> None:
        from pathlib import Path

        self.examples = examples
        if self.snapshot is not None:
            self.optimized_view.set_image(self.snapshot.images[0])
        for view in self.example_views:
            view.set_image(None)
            view.set_title(" ")
        for view, example in zip(self.example_views, examples, strict=False):
            view.set_image(example.crop)
            view.set_title(f"{Path(names[example.index]).name} · {example.score:.2f}")
        self.examples_status.setText(f"Top {len(examples)} for channel {channel} of {layer} "
                                     "(crops around the strongest position)")

    def refresh_now(self) -> None:
        """Nothing to recompute on show: runs start from the Run button."""

    def demo(self) -> None:
        """For screenshots and lessons: 96 steps on a channel of a middle block."""
        model = self.model()
        middle = [i.name for i in model.layers if i.has_grid and i.depth == 2] if model else []
        if middle:
            self.layer.choose(middle[len(middle) // 2])
            self.update_channel_range()
        self.channel.setValue(min(5, self.channel.maximum()))
        self.steps.setValue(96)
        self.run()

    def caption(self) -> str:
        if not self.recipe:
            return ""
        return (f"Feature visualization of {self.recipe['objective']} · {self.recipe['model']} "
                f"({self.recipe['weights']}) · size {self.recipe['size']}, seed "
                f"{self.recipe['seed']}")
