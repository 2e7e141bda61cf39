"""The Feature visualization tab: watch an image form live while it is optimized to excite a
unit, steer it mid-run, and compare it with the dataset images that excite the unit most."""

from __future__ import annotations

import json
from functools import partial

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.tabs.base import TaskPanel
from workbench.ui.tabs.featviz.channel_mosaic import ChannelMosaic
from workbench.ui.tabs.featviz.jobs import channels_job, examples_job, featviz_job, load_images_job
from workbench.ui.widgets.image_view import ImageView
from workbench.ui.widgets.param_form import ParamForm

OBJECTIVE_KINDS = ("channel", "neuron", "deepdream", "class logit", "class probability")
MAX_BATCH = 4


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
        self.examples = []
        self._handle = None
        self._running = False
        self._paused = False
        self.views = QWidget()
        self.views_layout = QGridLayout(self.views)
        self.result_views: list[ImageView] = []
        self.curve_plot = pg.PlotWidget()
        self.curve_plot.setLabel("bottom", "step")
        self.curve_plot.setLabel("left", "objective")
        self.curve_plot.setMinimumHeight(120)
        self.curve = self.curve_plot.plot(pen=pg.mkPen("#e07b20", width=2))
        self.status = QLabel("Pick a unit and press Run.")
        self.status.setWordWrap(True)
        self.mosaic = ChannelMosaic()
        self.mosaic.channel_clicked.connect(self._on_channel_clicked)
        self.gallery = self._build_gallery()
        tabs = QTabWidget()
        live = QWidget()
        live_layout = QVBoxLayout(live)
        live_layout.addWidget(self.views, 3)
        live_layout.addWidget(self.curve_plot, 1)
        live_layout.addWidget(self.status)
        tabs.addTab(live, "Optimization")
        tabs.addTab(self.mosaic, "Channels")
        tabs.addTab(self.gallery, "Dataset examples")
        self.view_tabs = tabs
        self.lay_out(tabs, self._build_controls())
        self._set_batch_views(1)
        state.model_changed.connect(self._on_model)
        state.layer_changed.connect(self._on_state_layer)

    # ---------------------------------------------------------------- building
    def _build_controls(self) -> QWidget:
        self.kind = QComboBox()
        self.kind.addItems(OBJECTIVE_KINDS)
        self.kind.currentTextChanged.connect(self._on_kind)
        self.layer = QComboBox()
        self.layer.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.layer.setMinimumContentsLength(10)
        self.layer.activated.connect(lambda _i: self.state.set_layer(self.layer.currentData()))
        self.channel = QSpinBox(minimum=0, maximum=0)
        self.channel.setObjectName("channelSpin")
        self.neuron_x = QSpinBox(minimum=0, maximum=512)
        self.neuron_y = QSpinBox(minimum=0, maximum=512)
        self.class_box = QComboBox()
        self.class_box.setEditable(True)
        self.class_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.negative = QCheckBox("minimize instead (negative)")
        self.diversity = QDoubleSpinBox(minimum=0.0, maximum=1000.0, value=0.0, singleStep=1.0)
        self.batch = QSpinBox(minimum=1, maximum=MAX_BATCH, value=1)
        self.size_spin = QSpinBox(minimum=32, maximum=1024, value=224, singleStep=32, suffix=" px")
        self.steps = QSpinBox(minimum=1, maximum=100_000, value=256)
        self.seed = QSpinBox(minimum=0, maximum=1_000_000, value=0)
        self.start_from = QComboBox()
        self.start_from.addItems(["noise", "current image"])
        self.live_form = ParamForm()  # filled once torch is loaded (the first model)
        self.live_form.changed.connect(self._push_live_config)
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("runFeatviz")
        self.run_button.clicked.connect(self.run)
        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        unit = QGroupBox("Unit")
        form = QFormLayout(unit)
        form.addRow("Objective", self.kind)
        form.addRow("Layer", self.layer)
        form.addRow("Channel", self.channel)
        neuron = QHBoxLayout()
        neuron.addWidget(self.neuron_x)
        neuron.addWidget(self.neuron_y)
        form.addRow("Neuron x, y", neuron)
        form.addRow("Class", self.class_box)
        form.addRow(self.negative)
        pick = QPushButton("Show this layer's channels")
        pick.clicked.connect(self.show_channels)
        form.addRow(pick)
        run = QGroupBox("Run")
        run_form = QFormLayout(run)
        run_form.addRow("Images", self.batch)
        run_form.addRow("Diversity", self.diversity)
        run_form.addRow("Size", self.size_spin)
        run_form.addRow("Steps", self.steps)
        run_form.addRow("Seed", self.seed)
        run_form.addRow("Start from", self.start_from)
        buttons = QHBoxLayout()
        for button in (self.run_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        run_form.addRow(buttons)
        live = QGroupBox("Live settings (apply on the next step)")
        QVBoxLayout(live).addWidget(self.live_form)
        body = QWidget()
        column = QVBoxLayout(body)
        for box in (unit, run, live):
            column.addWidget(box)
        column.addStretch(1)
        self._on_kind(self.kind.currentText())
        return body

    def _build_gallery(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        buttons = QHBoxLayout()
        from_inputs = QPushButton("From the opened inputs")
        from_inputs.clicked.connect(self.examples_from_inputs)
        from_folder = QPushButton("From a folder…")
        from_folder.clicked.connect(lambda: self.examples_from_folder())
        buttons.addWidget(from_inputs)
        buttons.addWidget(from_folder)
        layout.addLayout(buttons)
        self.examples_status = QLabel("The images (and crops) that excite the unit most.")
        layout.addWidget(self.examples_status)
        grid = QGridLayout()
        self.optimized_view = ImageView(title="optimized")
        grid.addWidget(self.optimized_view, 0, 0, 3, 1)
        self.example_views = []
        for index in range(9):
            view = ImageView(title=" ")
            grid.addWidget(view, index // 3, 1 + index % 3)
            self.example_views.append(view)
        layout.addLayout(grid, 1)
        return page

    def _set_batch_views(self, count: int) -> None:
        while len(self.result_views) > count:
            self.views_layout.removeWidget(self.result_views[-1])
            self.result_views.pop().deleteLater()
        for buttons in self.views.findChildren(QPushButton):
            buttons.deleteLater()
        while len(self.result_views) < count:
            view = ImageView(title=" ")
            self.result_views.append(view)
        for index, view in enumerate(self.result_views):
            self.views_layout.addWidget(view, 0, index)
            self.views_layout.setColumnStretch(index, 1)
            save = QPushButton("Save PNG…")
            save.clicked.connect(partial(self.save_image, index))
            self.views_layout.addWidget(save, 1, index)

    # ------------------------------------------------------------------ inputs
    def _on_model(self, model) -> None:
        self.stop()
        self.layer.clear()
        self.class_box.clear()
        if model is None:
            return
        from workbench.core.featureviz import FeatureVizConfig

        self.live_form.set_params(FeatureVizConfig)
        for info in model.layers:
            if info.output_shape and len(info.output_shape) >= 2:
                self.layer.addItem(f"{info.name}  ({'×'.join(map(str, info.output_shape[1:]))})",
                                   info.name)
        labels = [f"{i}: {label}" for i, label in enumerate(model.labels)]
        self.class_box.addItems(labels)
        completer = QCompleter(labels, self)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.class_box.setCompleter(completer)
        self._select_layer(self.state.layer or model.default_cam_layer)

    def _on_state_layer(self, name: str) -> None:
        self._select_layer(name)

    def _select_layer(self, name) -> None:
        index = self.layer.findData(name)
        if index >= 0:
            self.layer.setCurrentIndex(index)
        self._update_channel_range()

    def _update_channel_range(self) -> None:
        model, name = self.state.model, self.layer.currentData()
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

    def _on_kind(self, kind: str) -> None:
        self.channel.setEnabled(kind in ("channel", "neuron"))
        self.neuron_x.setEnabled(kind == "neuron")
        self.neuron_y.setEnabled(kind == "neuron")
        self.class_box.setEnabled(kind.startswith("class"))
        self.layer.setEnabled(not kind.startswith("class"))

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
        class_index = int(self.class_box.currentText().split(":", 1)[0] or 0) \
            if self.class_box.currentText().split(":", 1)[0].strip().isdigit() else 0
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

    def _push_live_config(self) -> None:
        """Copy the form into the running job's config object (read at every step)."""
        if self.config is None:
            return
        for name, value in self.live_form.values().items():
            setattr(self.config, name, value)

    def run(self) -> None:
        from workbench.errors import WorkbenchError

        model = self.state.model
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
        self.recipe = {"model": model.name, "weights": model.source,
                       "objective": objective.description, "size": self.size_spin.value(),
                       "images": self.batch.value(), "seed": self.seed.value(),
                       "start": self.start_from.currentText()}
        self._set_batch_views(self.batch.value())
        self._submit(objective, self.steps.value())

    def _submit(self, objective, steps: int) -> None:
        model = self.state.model
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
        model, image, layer = self.state.model, self.state.image, self.layer.currentData()
        if model is None or image is None or not layer:
            self.state.error("Open an image to see the layer's channels")
            return
        self.view_tabs.setCurrentIndex(1)
        self.runner.submit(partial(channels_job, model, image, layer), name="Layer channels",
                           key="featviz-channels", on_finished=self.mosaic.show_channels,
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
        model, layer = self.state.model, self.layer.currentData()
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

    def caption(self) -> str:
        if not self.recipe:
            return ""
        return (f"Feature visualization of {self.recipe['objective']} · {self.recipe['model']} "
                f"({self.recipe['weights']}) · size {self.recipe['size']}, seed "
                f"{self.recipe['seed']}")
