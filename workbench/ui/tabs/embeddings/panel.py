"""The Embeddings tab: a dataset's features at a layer, mapped to 2-D (PCA, t-SNE, UMAP
or a live autoencoder), coloured by label, prediction or a class's probability; click a
point for its nearest neighbours in the original feature space; Shift-click a lasso."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.tabs.base import TaskPanel
from workbench.ui.tabs.embeddings.jobs import (
    DatasetSpec,
    build_map_job,
    image_features_job,
    neighbours_job,
    predictions_job,
    thumbnail_job,
    warm_umap_job,
)
from workbench.ui.widgets.image_view import ImageView
from workbench.ui.widgets.param_form import ParamForm
from workbench.ui.widgets.qt_images import icon_from_array
from workbench.ui.widgets.scatter_map import CONTINUOUS_BINS, ScatterMap
from workbench.ui.widgets.target_picker import ClassChooser

SOURCES = (("Opened inputs", "inputs"), ("Folder…", "folder"), ("Video…", "video"),
           ("scikit-learn digits", "digits"))
COLOUR_BY = ("label", "predicted class", "probability of a class")
ROW_ROLE = Qt.ItemDataRole.UserRole
_UMAP_WARM = False  # compiled (or compiling) in this process


class EmbeddingsPanel(TaskPanel):
    title = "Embeddings"

    def __init__(self, state, runner, parent=None):
        super().__init__(state, runner, parent)
        self.setObjectName("EmbeddingsPanel")
        self.reducers: dict = {}
        self.map_data = None  # MapData
        self.predictions = None  # (top-1 (N,), probabilities (N, C) float16)
        self.neighbours = None  # (query description, indices, distances)
        self.selection = np.zeros(0, int)
        self._handle = None
        self._hovered = -1
        self.map = ScatterMap()
        self.map.point_clicked.connect(self.neighbours_of_point)
        self.map.point_hovered.connect(self._on_hover)
        self.map.lasso_selected.connect(self._on_lasso)
        self.preview = ImageView(title="hover a point")
        self.preview.setMaximumWidth(220)
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListWidget.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(72, 72))
        self.gallery.setGridSize(QSize(96, 112))
        self.gallery.setWordWrap(True)
        self.gallery.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.gallery.setMaximumHeight(150)
        self.gallery.itemDoubleClicked.connect(self._open_item)
        self.gallery_title = QLabel("Click a point for its nearest neighbours; Shift-click "
                                    "twice to lasso a region.")
        self.status = QLabel("Pick a dataset and build a map.")
        self.status.setWordWrap(True)
        self.gallery_title.setWordWrap(True)
        top = QSplitter()
        top.addWidget(self.map)
        top.addWidget(self.preview)
        top.setSizes([700, 200])
        views = QWidget()
        layout = QVBoxLayout(views)
        layout.addWidget(top, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.gallery_title)
        layout.addWidget(self.gallery)
        self.lay_out(views, self._build_controls(), (640, 340))
        state.model_changed.connect(self._on_model)

    # ---------------------------------------------------------------- building
    def _build_controls(self) -> QWidget:
        self.source = QComboBox()
        for text, kind in SOURCES:
            self.source.addItem(text, kind)
        self.source.activated.connect(self._on_source)
        self.source_path = ""
        self.path_label = QLabel("")
        self.path_label.setWordWrap(True)
        self.every = QSpinBox(minimum=1, maximum=10_000, value=10, prefix="every ",
                              suffix=" frames")
        self.every.setEnabled(False)
        self.layer = QComboBox()
        self.layer.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.layer.setMinimumContentsLength(10)
        self.method = QComboBox()
        self.method.currentIndexChanged.connect(self._on_method)
        self.form = ParamForm()
        build = QPushButton("Build map")
        build.setObjectName("buildMap")
        build.clicked.connect(self.build)
        stop = QPushButton("Stop")
        stop.clicked.connect(lambda: self.runner.cancel(self._handle))
        self.colour_by = QComboBox()
        self.colour_by.addItems(COLOUR_BY)
        self.colour_by.currentTextChanged.connect(self.recolour)
        self.colour_class = ClassChooser()
        self.colour_class.currentIndexChanged.connect(lambda _i: self.recolour())
        self.k = QSpinBox(minimum=1, maximum=200, value=12)
        self.metric_combo = QComboBox()
        self.metric_combo.addItems(["cosine", "euclidean", "dot"])
        current = QPushButton("Neighbours of the current image")
        current.clicked.connect(self.neighbours_of_current)
        exports = QHBoxLayout()
        for text, slot in (("PNG…", self.export_png), ("SVG…", self.export_svg),
                           ("CSV…", self.export_csv), ("Selection…", self.export_selection)):
            button = QPushButton(text)
            button.clicked.connect(lambda _c=False, s=slot: s())
            exports.addWidget(button)
        data_box = QGroupBox("Data and layer")
        form = QFormLayout(data_box)
        form.addRow("Dataset", self.source)
        form.addRow(self.path_label)
        form.addRow("Video", self.every)
        form.addRow("Layer", self.layer)
        map_box = QGroupBox("Map")
        map_form = QFormLayout(map_box)
        map_form.addRow("Method", self.method)
        map_form.addRow(self.form)
        buttons = QHBoxLayout()
        buttons.addWidget(build)
        buttons.addWidget(stop)
        map_form.addRow(buttons)
        map_form.addRow("Colour by", self.colour_by)
        map_form.addRow("Class", self.colour_class)
        knn_box = QGroupBox("Nearest neighbours (original features)")
        knn = QFormLayout(knn_box)
        knn.addRow("k", self.k)
        knn.addRow("Metric", self.metric_combo)
        knn.addRow(current)
        export_box = QGroupBox("Export")
        export_box.setLayout(exports)
        body = QWidget()
        column = QVBoxLayout(body)
        for box in (data_box, map_box, knn_box, export_box):
            column.addWidget(box)
        column.addStretch(1)
        return body

    # ------------------------------------------------------------------ inputs
    def _on_model(self, model) -> None:
        self.map_data = self.predictions = None
        self.layer.clear()
        if model is None:
            return
        if not self.reducers:
            self._load_reducers()
        from workbench.core.embedding import default_layer

        for info in model.layers:
            if info.output_shape and len(info.output_shape) >= 2:
                self.layer.addItem(f"{info.name}  ({'×'.join(map(str, info.output_shape[1:]))})",
                                   info.name)
        try:
            self.layer.setCurrentIndex(self.layer.findData(default_layer(model)))
        except Exception:  # noqa: BLE001 - a model without a usable layer: leave the choice
            pass
        self.colour_class.set_labels(model.labels)
        if model.name == "digits_lenet":
            self.set_source("digits")

    def _load_reducers(self) -> None:
        from workbench.core.embedding import REDUCER_ORDER, REDUCERS

        self.reducers = {name: REDUCERS[name] for name in REDUCER_ORDER}
        for name, reducer in self.reducers.items():
            self.method.addItem(reducer.title or name, name)
        self.method.setCurrentIndex(self.method.findData("pca"))
        self._on_method()

    def _on_method(self, *_args) -> None:
        if self.reducers:
            self.form.set_params(self.reducers[self.method.currentData()].params_cls)
            if self.method.currentData() == "umap":
                self.warm_up_umap()

    def warm_up_umap(self) -> None:
        """Compile UMAP once per process, in the background (the IO thread, so model work
        is not held up): the first real map then starts at once."""
        global _UMAP_WARM
        io_runner = getattr(self.window(), "io_runner", None)
        if _UMAP_WARM or io_runner is None:
            return
        _UMAP_WARM = True
        io_runner.submit(warm_umap_job, name="Compiling UMAP (first use only)",
                         key="umap-warm-up", on_error=self.state.error)

    def _on_source(self, _index: int) -> None:
        kind = self.source.currentData()
        path = ""
        if kind == "folder":
            path = QFileDialog.getExistingDirectory(self, "Image folder (subfolders = labels)")
        elif kind == "video":
            path, _ = QFileDialog.getOpenFileName(self, "Video", "",
                                                  "Videos (*.mp4 *.mov *.avi *.mkv *.webm *.gif)")
        self.set_source(kind, path)

    def set_source(self, kind: str, path: str = "") -> None:
        self.source.setCurrentIndex(self.source.findData(kind))
        self.every.setEnabled(kind == "video")
        self.source_path = path
        self.path_label.setText(path)

    def dataset_spec(self) -> DatasetSpec:
        kind = self.source.currentData()
        inputs = ()
        if kind == "inputs":
            dock = getattr(self.window(), "inputs", None)
            records = list(dock.records.values()) if dock is not None else []
            inputs = tuple(r.path if r.path else (r.name, r.image) for r in records)
        return DatasetSpec(kind, self.source_path, self.every.value(), inputs)

    def refresh_now(self) -> None:
        """Maps are built from the Build button; nothing to recompute when shown."""

    # ------------------------------------------------------------------- build
    def build(self) -> None:
        from workbench.core.params import make
        from workbench.errors import WorkbenchError

        model = self.state.model
        if model is None or not self.reducers:
            return
        spec = self.dataset_spec()
        if spec.kind in ("folder", "video") and not spec.path:
            self.state.error(f"Choose a {spec.kind} first")
            return
        method = self.method.currentData()
        try:
            params = make(self.reducers[method].params_cls, self.form.values())
        except WorkbenchError as exc:
            self.state.error(str(exc))
            return
        self.status.setText(f"building a {self.reducers[method].title} map …")
        self.predictions = None
        self._handle = self.runner.submit(
            partial(build_map_job, model, spec, self.layer.currentData(), method, params,
                    self.metric_combo.currentText()),
            name=f"Embedding map ({self.reducers[method].title})", key="embedding",
            on_partial=self._on_update, on_finished=self._on_map, on_error=self._on_error,
            on_cancelled=lambda: self.status.setText("stopped"))

    def _on_update(self, update) -> None:
        """A reducer that iterates (t-SNE, the autoencoder) shows its map as it trains."""
        if getattr(update, "coords", None) is None:
            return
        if len(self.map.coords) == len(update.coords) and self.map.groups:
            self.map.update_coords(update.coords)
        else:
            self.map.set_points(update.coords, np.full(len(update.coords), -1), [])
        loss = f", loss {update.loss:.4f}" if update.loss is not None else ""
        self.status.setText(f"{update.method}: step {update.step} of {update.total}{loss}")

    def _on_map(self, data) -> None:
        self.map_data = data
        self.recolour()
        skipped = f"; skipped {len(data.skipped)} unreadable files" if data.skipped else ""
        cached = " (features from the cache)" if data.from_cache else ""
        self.status.setText(f"{len(data.coords)} points · {data.layer} · "
                            f"{self.reducers[data.method].title} in {data.seconds:.1f} s"
                            f"{cached}{skipped}")
        if data.skipped:
            self.state.error(f"Skipped {len(data.skipped)} unreadable files: "
                             f"{data.skipped[0][0]}: {data.skipped[0][1]}")

    def _on_error(self, message: str) -> None:
        self.status.setText(message)
        self.state.error(message)

    def has_map(self) -> bool:
        return self.map_data is not None

    # ----------------------------------------------------------------- colours
    def recolour(self, *_args) -> None:
        data = self.map_data
        if data is None:
            return
        mode = self.colour_by.currentText()
        if mode == "label":
            names = data.label_names or []
            self.map.set_points(data.coords, data.labels if names else np.full(
                len(data.coords), -1), names)
            return
        if self.predictions is None:
            self.status.setText("computing the model's predictions for every point …")
            self.runner.submit(partial(predictions_job, self.state.model, data),
                               name="Predictions of the dataset", key="embedding-predictions",
                               on_finished=self._on_predictions, on_error=self.state.error)
            return
        top, probs = self.predictions
        if mode == "predicted class":
            classes = np.unique(top)
            groups = np.searchsorted(classes, top)
            self.map.set_points(data.coords, groups,
                                [self.state.model.label(int(c)) for c in classes])
        else:
            chosen = self.colour_class.index_value()
            values = probs[:, chosen].astype(np.float32)
            bins = np.minimum((values * CONTINUOUS_BINS).astype(int), CONTINUOUS_BINS - 1)
            names = [f"p({self.state.model.label(chosen)}) ≈ {(b + 0.5) / CONTINUOUS_BINS:.2f}"
                     for b in range(CONTINUOUS_BINS)]
            self.map.set_points(data.coords, bins, names, continuous=True)

    def _on_predictions(self, result) -> None:
        self.predictions = result
        self.status.setText(f"coloured by {self.colour_by.currentText()}")
        self.recolour()

    # -------------------------------------------------------------- neighbours
    def neighbours_of_point(self, index: int) -> None:
        data = self.map_data
        if data is None:
            return
        query = data.features.features[index : index + 1]
        self._ask_neighbours(query, f"neighbours of {Path(data.names[index]).name}")

    def neighbours_of_current(self) -> None:
        data, image = self.map_data, self.state.image
        if data is None or image is None:
            self.state.error("Build a map and open an image first")
            return

        def placed(result):
            features, coords = result
            self.map.set_marks([(coords[0, 0], coords[0, 1], "#ffd000")])
            self._ask_neighbours(features, f"neighbours of {self.state.image_name}")

        self.runner.submit(partial(image_features_job, self.state.model, data, [image]),
                           name="Place the current image", key="embedding-place",
                           on_finished=placed, on_error=self.state.error)

    def _ask_neighbours(self, query, title: str) -> None:
        self.runner.submit(
            partial(neighbours_job, self.map_data, query, self.k.value(),
                    self.metric_combo.currentText()),
            name="Nearest neighbours", key="embedding-knn",
            on_finished=partial(self._show_neighbours, title), on_error=self.state.error)

    def _show_neighbours(self, title, result) -> None:
        indices, distances = result
        self.neighbours = (title, indices[0], distances[0])
        self.map.select(indices[0])
        self._fill_gallery(indices[0], [f"{d:.3f}" for d in distances[0]],
                           f"{title} ({self.metric_combo.currentText()} distance)")

    def _on_lasso(self, indices) -> None:
        self.selection = np.asarray(indices, int)
        if self.map_data is None:
            return
        if len(self.selection):
            self.map.select(self.selection)
        shown = self.selection[:60]
        self._fill_gallery(shown, ["" for _ in shown],
                           f"lasso: {len(self.selection)} points"
                           + (" (first 60 shown)" if len(self.selection) > 60 else ""))

    def _fill_gallery(self, indices, captions, title: str) -> None:
        self.gallery.clear()
        self.gallery_title.setText(title)
        for index, caption in zip(indices, captions, strict=True):
            name = Path(self.map_data.names[int(index)]).name
            item = QListWidgetItem(f"{name}\n{caption}".strip())
            item.setData(ROW_ROLE, int(index))
            self.gallery.addItem(item)
            self.runner.submit(partial(thumbnail_job, self.map_data, int(index)),
                               name="Thumbnail", on_finished=partial(self._set_icon, item),
                               on_error=lambda _m: None)

    def _set_icon(self, item, result) -> None:
        try:
            item.setIcon(icon_from_array(result[1]))
        except RuntimeError:  # the gallery was refilled meanwhile
            pass

    def _on_hover(self, index: int) -> None:
        if index < 0 or self.map_data is None or index == self._hovered:
            return
        self._hovered = index
        label = self.map_data.labels[index]
        names = self.map_data.label_names
        tag = f" · {names[label]}" if 0 <= label < len(names) else ""
        self.preview.set_title(f"{Path(self.map_data.names[index]).name}{tag}")
        self.runner.submit(partial(thumbnail_job, self.map_data, index), name="Thumbnail",
                           key="embedding-hover", on_finished=self._show_hover,
                           on_error=lambda _m: None)

    def _show_hover(self, result) -> None:
        index, thumbnail = result
        if index == self._hovered:
            self.preview.set_image(thumbnail)

    def _open_item(self, item) -> None:
        """Open a neighbour in the Inputs dock."""
        index = item.data(ROW_ROLE)
        dock = getattr(self.window(), "inputs", None)
        entry = self.map_data.dataset.items[self.map_data.features.indices[index]] \
            if self.map_data.features.indices is not None else self.map_data.dataset.items[index]
        if dock is None:
            return
        if entry.path and entry.frame is None:
            dock.add_paths([entry.path], select=True)
        else:
            dock.add_array(self.map_data.dataset.load(index), Path(entry.name).name)

    # ---------------------------------------------------- adversarial points
    def place_pair(self, original: np.ndarray, adversarial: np.ndarray) -> None:
        """Show where an image and its adversarial version fall, joined by an arrow."""
        def placed(result):
            _features, coords = result
            (x0, y0), (x1, y1) = coords[0], coords[1]
            self.map.set_marks([(x0, y0, "#2ca02c"), (x1, y1, "#d62728")],
                               arrows=[((x0, y0), (x1, y1))])
            self.status.setText("green: original · red: adversarial")

        self.runner.submit(partial(image_features_job, self.state.model, self.map_data,
                                   [original, adversarial]),
                           name="Place the adversarial pair", key="embedding-place",
                           on_finished=placed, on_error=self.state.error)

    # ------------------------------------------------------------------ export
    def export_png(self, path: str | None = None) -> str | None:
        from pyqtgraph.exporters import ImageExporter

        return self._export(path, "embedding.png", "PNG (*.png)", ImageExporter, width=2000)

    def export_svg(self, path: str | None = None) -> str | None:
        """Vector SVG of the map, drawn by Qt's SVG generator (pyqtgraph's SVG exporter
        fails on some of Qt 6's path data)."""
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice
        from PySide6.QtGui import QPainter
        from PySide6.QtSvg import QSvgGenerator

        from workbench.io.atomic import write_bytes_atomic

        if self.map_data is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export map", "embedding.svg",
                                                  "SVG (*.svg)")
        if not path:
            return None
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setSize(self.map.size())
        generator.setViewBox(self.map.rect())
        generator.setTitle(self.caption())
        painter = QPainter(generator)
        self.map.render(painter)
        painter.end()
        buffer.close()
        write_bytes_atomic(path, bytes(data.data()))
        self.state.info(f"Saved {path}")
        return path

    def _export(self, path, default, pattern, exporter_cls, width=None):
        import tempfile

        from workbench.io.atomic import write_bytes_atomic

        if self.map_data is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export map", default, pattern)
        if not path:
            return None
        exporter = exporter_cls(self.map.getPlotItem())
        if width:
            exporter.parameters()["width"] = width
        with tempfile.TemporaryDirectory() as folder:
            scratch = Path(folder) / Path(path).name
            exporter.export(str(scratch))
            write_bytes_atomic(path, scratch.read_bytes())
        self.state.info(f"Saved {path}")
        return path

    def export_csv(self, path: str | None = None) -> str | None:
        from workbench.io.tables import write_csv

        if self.map_data is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export coordinates", "embedding.csv",
                                                  "CSV (*.csv)")
        if not path:
            return None
        data = self.map_data
        names = data.label_names
        rows = [(f"{x:.6g}", f"{y:.6g}", int(label),
                 names[label] if 0 <= label < len(names) else "", name)
                for (x, y), label, name in zip(data.coords, data.labels, data.names, strict=True)]
        write_csv(path, ("x", "y", "label", "label_name", "path"), rows)
        self.state.info(f"Saved {path}")
        return path

    def export_selection(self, path: str | None = None) -> str | None:
        from workbench.io.atomic import write_bytes_atomic

        if self.map_data is None or not len(self.selection):
            self.state.error("Lasso a region first (Shift-click around it)")
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export selected paths",
                                                  "selection.txt", "Text (*.txt)")
        if not path:
            return None
        lines = "\n".join(self.map_data.names[i] for i in self.selection) + "\n"
        write_bytes_atomic(path, lines.encode("utf-8", "surrogateescape"))
        return path

    def caption(self) -> str:
        if self.map_data is None or self.state.model is None:
            return ""
        return (f"{self.reducers[self.map_data.method].title} of {self.map_data.layer} features, "
                f"{len(self.map_data.coords)} points; {self.state.model.caption()}")
