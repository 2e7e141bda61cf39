"""The Embeddings tab: a dataset's features at a layer, mapped to 2-D (PCA, t-SNE, UMAP
or a live autoencoder), coloured by label, prediction or a class's probability; click a
point for its nearest neighbours in the original feature space; Shift-click a lasso."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog, QLabel

from workbench.ui.tabs.base import TaskPanel
from workbench.ui.tabs.embeddings.controls import build_controls
from workbench.ui.tabs.embeddings.exports import MapExports
from workbench.ui.tabs.embeddings.gallery import Gallery
from workbench.ui.tabs.embeddings.jobs import (
    DatasetSpec,
    build_map_job,
    image_features_job,
    neighbours_job,
    predictions_job,
    thumbnail_job,
    warm_umap_job,
)
from workbench.ui.widgets.colorbar import ColorBar
from workbench.ui.widgets.forms import column, split
from workbench.ui.widgets.image_view import ImageView
from workbench.ui.widgets.legend import Legend
from workbench.ui.widgets.scatter_map import CONTINUOUS_BINS, ScatterMap

_UMAP_WARM = False  # compiled (or compiling) in this process


class EmbeddingsPanel(MapExports, TaskPanel):
    title = "Embeddings"

    def __init__(self, state, runner, parent=None):
        super().__init__(state, runner, parent)
        self.setObjectName("EmbeddingsPanel")
        self.reducers: dict = {}
        self.map_data = None  # MapData
        self.predictions = None  # (top-1 (N,), probabilities (N, C) float16)
        self.neighbours = None  # (query description, indices, distances)
        self.neighbours_of = None  # (what was asked: a point index or "image", metric)
        self.query = None  # (image, features (1, D)) of the current image placed on the map
        self.map_model = self.map_spec = None  # what the map on screen was built from
        self._building = None
        self.selection = np.zeros(0, int)
        self.source_path = ""
        self._handle = None
        self._hovered = -1
        self.map = ScatterMap()
        self.map.point_clicked.connect(self.neighbours_of_point)
        self.map.point_hovered.connect(self._on_hover)
        self.map.lasso_selected.connect(self._on_lasso)
        self.legend = Legend("Colours")
        self.colorbar = ColorBar()
        self.colorbar.setVisible(False)
        self.preview = ImageView(title="hover a point")
        self.preview.setMinimumSize(120, 120)
        self.preview.setMaximumHeight(260)
        self.gallery = Gallery(runner, self._open_item)
        self.status = QLabel("Pick a dataset and build a map.")
        self.status.setWordWrap(True)
        side = column((self.legend, 3), (self.colorbar, 3), (self.preview, 1))
        top = split(False, self.map, side, stretch=(4, 1))
        views = split(True, column((top, 1), self.status), self.gallery, stretch=(4, 1))
        self.lay_out(views, build_controls(self))
        self.add_shortcuts(run=self.build_button, stop=self.stop_button,
                           export=self.figure_button)
        state.model_changed.connect(self._on_model)

    # ------------------------------------------------------------------ inputs
    def current_layer(self) -> str | None:
        return self.layer.layer()

    def choose_layer(self, name: str) -> None:
        self.layer.choose(name)

    def _on_model(self, model) -> None:
        self.map_data = self.predictions = None
        if model is None:
            self.layer.set_model(None)
            return
        if not self.reducers:
            self._load_reducers()
        from workbench.core.embedding import default_layer

        try:
            default = default_layer(model)
        except Exception:  # noqa: BLE001 - a model without a usable layer: leave the choice
            default = None
        self.layer.set_model(model, default)
        self.colour_class.set_labels(model.labels)
        if model.name == "digits_lenet":
            self.set_source("digits")

    def _load_reducers(self) -> None:
        from workbench.core.embedding import REDUCER_ORDER, REDUCERS

        self.reducers = {name: REDUCERS[name] for name in REDUCER_ORDER}
        for name, reducer in self.reducers.items():
            self.method.addItem(reducer.title or name, name)
        self.method.setCurrentIndex(self.method.findData("pca"))
        self.on_method()

    def on_method(self, *_args) -> None:
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

    def on_source(self, _index: int) -> None:
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
        self.gallery.clear()
        self._building = (model, spec)
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
        self.map_model, self.map_spec = self._building or (None, None)
        self.neighbours, self.selection = None, np.zeros(0, int)
        self.neighbours_of = self.query = None
        self.gallery.clear()
        self.map.set_marks([])
        self.recolour()
        if data.skipped:
            self.state.error(f"Skipped {len(data.skipped)} unreadable files: "
                             f"{data.skipped[0][0]}: {data.skipped[0][1]}")

    def map_summary(self) -> str:
        data = self.map_data
        skipped = f"; skipped {len(data.skipped)} unreadable files" if data.skipped else ""
        cached = " (features from the cache)" if data.from_cache else ""
        return (f"{len(data.coords)} points · {data.layer} · "
                f"{self.reducers[data.method].title} in {data.seconds:.1f} s{cached}{skipped}")

    def _on_error(self, message: str) -> None:
        self.status.setText(message)
        self.state.error(message)

    def has_map(self) -> bool:
        return self.map_data is not None

    def feature_set(self):
        """The :class:`~workbench.core.embedding.FeatureSet` behind the map, or ``None``."""
        return getattr(self.map_data, "features", None)

    def projection(self):
        """The fitted :class:`~workbench.core.embedding.Projection` of the map, or ``None``."""
        return getattr(self.map_data, "projection", None)

    # ----------------------------------------------------------------- colours
    def recolour(self, *_args) -> None:
        data = self.map_data
        if data is None:
            return
        mode = self.colour_by.currentText()
        self.colorbar.setVisible(False)
        if mode == "label":
            names = data.label_names or []
            self.map.set_points(data.coords, data.labels if names else np.full(
                len(data.coords), -1), names)
            self._colours_shown("coloured by label" if names else "no labels: one colour")
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
            self._colours_shown("coloured by predicted class")
        else:
            self._colour_by_probability(probs)

    def _colour_by_probability(self, probs) -> None:
        from workbench.io.overlay import RAW, ColorScale

        chosen = self.colour_class.index_value()
        label = self.state.model.label(chosen)
        values = probs[:, chosen].astype(np.float32)
        bins = np.minimum((values * CONTINUOUS_BINS).astype(int), CONTINUOUS_BINS - 1)
        names = [f"{b / CONTINUOUS_BINS:.2f}–{(b + 1) / CONTINUOUS_BINS:.2f}"
                 for b in range(CONTINUOUS_BINS)]
        self.map.set_points(self.map_data.coords, bins, names, continuous=True)
        self.colorbar.set_scale(ColorScale("viridis", 0.0, 1.0, f"p({label})", RAW))
        self.colorbar.setVisible(True)
        self._colours_shown(f"coloured by p({label})", legend=False)

    def _colours_shown(self, text: str, legend: bool = True) -> None:
        self.legend.set_entries(self.map.entries if legend else [])
        self.status.setText(f"{self.map_summary()} · {text}")

    def _on_predictions(self, result) -> None:
        self.predictions = result
        self.recolour()

    # -------------------------------------------------------------- neighbours
    def neighbours_of_point(self, index: int) -> None:
        data = self.map_data
        if data is None:
            return
        query = data.features.features[index : index + 1]
        self._ask_neighbours(query, f"neighbours of {Path(data.names[index]).name}", index)

    def neighbours_of_current(self) -> None:
        data, image = self.map_data, self.state.image
        if data is None or image is None:
            self.state.error("Build a map and open an image first")
            return

        def placed(result):
            features, coords = result
            self.query = (image, features)
            self.map.set_marks([(coords[0, 0], coords[0, 1], "#ffd000")])
            self._ask_neighbours(features, f"neighbours of {self.state.image_name}", "image")

        self.runner.submit(partial(image_features_job, self.state.model, data, [image]),
                           name="Place the current image", key="embedding-place",
                           on_finished=placed, on_error=self.state.error)

    def _ask_neighbours(self, query, title: str, of=None) -> None:
        metric = self.metric_combo.currentText()
        self.runner.submit(
            partial(neighbours_job, self.map_data, query, self.k.value(), metric),
            name="Nearest neighbours", key="embedding-knn",
            on_finished=partial(self._show_neighbours, title, (of, metric)),
            on_error=self.state.error)

    def _show_neighbours(self, title, of, result) -> None:
        indices, distances = result
        self.neighbours, self.neighbours_of = (title, indices[0], distances[0]), of
        self.map.select(indices[0])
        self.gallery.fill(self.map_data, indices[0], [f"{d:.3f}" for d in distances[0]],
                          f"{title} ({self.metric_combo.currentText()} distance)")

    def _on_lasso(self, indices) -> None:
        self.selection = np.asarray(indices, int)
        if self.map_data is None:
            return
        if len(self.selection):
            self.map.select(self.selection)
        shown = self.selection[:60]
        self.gallery.fill(self.map_data, shown, ["" for _ in shown],
                          f"lasso: {len(self.selection)} points"
                          + (" (first 60 shown)" if len(self.selection) > 60 else ""))

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

    def _open_item(self, index: int) -> None:
        """Open a neighbour in the Inputs dock."""
        dock = getattr(self.window(), "inputs", None)
        data = self.map_data
        entry = data.dataset.items[data.features.indices[index]] \
            if data.features.indices is not None else data.dataset.items[index]
        if dock is None:
            return
        if entry.path and entry.frame is None:
            dock.add_paths([entry.path], select=True)
        else:
            dock.add_array(data.dataset.load(index), Path(entry.name).name)

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

    def caption(self) -> str:
        if self.map_data is None or self.state.model is None:
            return ""
        return (f"{self.reducers[self.map_data.method].title} of {self.map_data.layer} features, "
                f"{len(self.map_data.coords)} points; {self.state.model.caption()}")
