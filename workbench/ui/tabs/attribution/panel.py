"""The Attribution tab: a map over the image with its colour bar (live display controls),
target / layer / method pickers with a generated parameter form, faithfulness curves under
the map, a methods × layers grid, two classes or two images side by side, and exports."""

from __future__ import annotations

from functools import partial

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.tabs.attribution.compare_grid import CompareGrid
from workbench.ui.tabs.attribution.jobs import faithfulness_job, map_job
from workbench.ui.tabs.attribution.map_page import MapPage
from workbench.ui.tabs.attribution.pair_page import CLASSES, IMAGES, PairPage
from workbench.ui.tabs.base import TaskPanel
from workbench.ui.widgets.detection_overlay import show_target_box
from workbench.ui.widgets.display_controls import DisplayControls
from workbench.ui.widgets.forms import row, stacked
from workbench.ui.widgets.layer_combo import LayerCombo
from workbench.ui.widgets.param_form import ParamForm
from workbench.ui.widgets.target_line import TargetLine
from workbench.ui.widgets.target_picker import TargetPicker

EXPORT_SCALE = 2
SLOW_SECONDS = 4.0  # live recompute stops for methods estimated slower than this
UNITS = "attribution value"


def method_catalogue() -> dict:
    """``{name: Method}`` in the order of the issue (imports torch: call lazily)."""
    from workbench.core.attribution import METHOD_ORDER, METHODS

    return {name: METHODS[name] for name in METHOD_ORDER}


class AttributionPanel(TaskPanel):
    title = "Attribution"

    def __init__(self, state, runner, parent=None):
        super().__init__(state, runner, parent)
        self.setObjectName("AttributionPanel")
        self.methods: dict = {}  # filled once torch is loaded (first model): startup stays fast
        self.result = None
        self.seconds_per_pass: dict[str, float] = {}
        self.page = MapPage()
        self.view = self.page.view
        self.page.score_button.clicked.connect(self.score_faithfulness)
        self.controls = self._build_controls()
        self.grid = CompareGrid(state, runner)
        self.classes = PairPage(state, runner, CLASSES, self.settings)
        self.images = PairPage(state, runner, IMAGES, self.settings)
        views = QTabWidget()
        views.addTab(self.page, "Map")
        views.addTab(self.grid, "Methods × layers")
        views.addTab(self.classes, "Two classes")
        views.addTab(self.images, "Two images")
        views.currentChanged.connect(self._on_view)
        self.views = views
        self.lay_out(views, self.controls)
        self.add_shortcuts(run=self.run_button, stop=self.stop_button, export=self.figure_button)
        self._on_style(self.display.current_style())
        state.model_changed.connect(self._on_model)
        state.image_changed.connect(self._on_image)
        state.target_changed.connect(self._on_dense_target)

    # ----------------------------------------------------------------- building
    def _build_controls(self) -> QWidget:
        self.targets = TargetPicker()
        self.targets.target_chosen.connect(self._on_target)
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("methodCombo")
        self.method_combo.setToolTip("how the map is computed (each method links its paper)")
        self.method_combo.currentIndexChanged.connect(self._on_method)
        self.layer_combo = LayerCombo()
        self.layer_combo.layer_chosen.connect(lambda _name: self.request_refresh())
        self.form = ParamForm()
        self.form.changed.connect(self._on_params)
        self.live = QCheckBox("Live")
        self.live.setToolTip("recompute on every change (slow methods wait for Run)")
        self.live.setChecked(True)
        self.estimate = QLabel("")
        self.estimate.setWordWrap(True)
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("runAttribution")
        self.run_button.setToolTip("compute the map with these settings")
        self.run_button.clicked.connect(self.refresh_now)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopAttribution")
        self.stop_button.setToolTip("stop the running map")
        self.stop_button.clicked.connect(lambda: self.runner.cancel(self._handle))
        self._handle = None
        self.display = DisplayControls()
        self.display.changed.connect(self._on_style)
        method_box = QGroupBox("Method")
        method_form = QFormLayout(method_box)
        method_form.addRow("Method", self.method_combo)
        method_form.addRow("Layer", self.layer_combo)
        method_form.addRow(self.form)
        method_form.addRow(row(self.live, self.run_button, self.stop_button))
        method_form.addRow(self.estimate)
        target_box = QGroupBox("Target class")
        target_layout = QVBoxLayout(target_box)
        target_layout.addWidget(TargetLine(self.state))
        target_layout.addWidget(self.targets)
        display_box = QGroupBox("Display")
        QVBoxLayout(display_box).addWidget(self.display)
        export_box = QGroupBox("Export")
        exports = QHBoxLayout(export_box)
        self.figure_button = QPushButton("Figure…")
        self.figure_button.setToolTip("PNG or SVG of the view in front, with title, colour bar "
                                      "and provenance")
        self.figure_button.clicked.connect(lambda: self.export_figure())
        raw = QPushButton("Raw map…")
        raw.setToolTip("the map's values as float32 .npy at the model input resolution")
        raw.clicked.connect(lambda: self.export_map())
        exports.addWidget(self.figure_button)
        exports.addWidget(raw)
        return stacked(target_box, method_box, display_box, export_box, margins=True)

    # ------------------------------------------------------------------ inputs
    def current_method(self) -> str:
        return self.method_combo.currentData()

    def current_layer(self) -> str | None:
        return self.layer_combo.layer()

    def choose_layer(self, name: str) -> None:
        """The Model dock's choice for this tab."""
        if self.layer_combo.isEnabled() and self.layer_combo.choose(name):
            self.request_refresh()

    def _load_methods(self) -> None:
        self.methods = method_catalogue()
        self.method_combo.blockSignals(True)
        for name, method in self.methods.items():
            self.method_combo.addItem(method.title, name)
            self.method_combo.setItemData(self.method_combo.count() - 1, method.paper,
                                          Qt.ItemDataRole.ToolTipRole)
        self.method_combo.blockSignals(False)
        self.grid.set_methods({n: m.title for n, m in self.methods.items()})
        self._on_method()

    def _on_model(self, model) -> None:
        self.result = None
        self.layer_combo.set_model(model)
        if model is None:
            return
        if not self.methods:
            self._load_methods()
        self.targets.set_labels(model.labels)
        self._show_clip_fields(model)
        self._show_estimate()
        self.request_refresh()

    def _show_clip_fields(self, model) -> None:
        """Channel weights per time slice mean something for clip models only."""
        self.form.show_field("weighting", model is not None and model.kind == "video")

    def _on_image(self, _image) -> None:
        self.targets.choose(None, emit=False)
        self.request_refresh()

    def _on_dense_target(self, _target) -> None:
        """A dense model's target changed: its scored model's classes, and a new map."""
        model = self.state.job_model()
        if model is not None and self.state.is_dense():
            self.targets.set_labels(model.labels)
            self.request_refresh()

    def _on_method(self, *_args) -> None:
        if not self.methods:
            return
        method = self.methods[self.current_method()]
        self.form.set_params(method.params_cls)
        self._show_clip_fields(self.state.model)
        self.layer_combo.setEnabled(method.needs_layer)
        self._on_params()

    def _on_params(self) -> None:
        self._show_estimate()
        self.request_refresh()

    def _on_target(self, _target) -> None:
        self.grid.target = self.targets.target
        self.request_refresh()

    def _on_view(self, _index) -> None:
        dock = getattr(self.window(), "inputs", None)
        if dock is not None:
            self.images.set_inputs(list(dock.records.values()))

    # ---------------------------------------------------------------- estimate
    def estimated_seconds(self) -> float | None:
        """The current method's time on this model, from the measured time of one pass."""
        model = self.state.model
        if model is None or not self.methods:
            return None
        per_pass = self.seconds_per_pass.get(model.name)
        if per_pass is None:
            return None
        from workbench.core.params import make

        method = self.methods[self.current_method()]
        params = make(method.params_cls, self.form.values())
        return per_pass * method.passes(model, self.current_layer(), params)

    def is_slow(self) -> bool:
        seconds = self.estimated_seconds()
        return seconds is not None and seconds > SLOW_SECONDS

    def _show_estimate(self) -> None:
        seconds = self.estimated_seconds()
        if seconds is None or not self.is_slow():
            self.estimate.setText("")
            return
        self.estimate.setText(f"About {seconds:.0f} s on this device: press Run "
                              "(live updates wait for slow methods).")

    def request_refresh(self, *_args) -> None:
        if self.live.isChecked() and not self.is_slow():
            super().request_refresh()
        elif self.is_slow():
            self.view.set_title(f"{self.methods[self.current_method()].title}: press Run "
                                f"(about {self.estimated_seconds():.0f} s)")

    def settings(self):
        """What the side-by-side pages compute with: this tab's method and display."""
        return (self.current_method(), self.current_layer(), self.form.values(),
                self.display.current_style(), self.targets.target)

    # ----------------------------------------------------------------- compute
    def refresh_now(self) -> None:
        model, image = self.state.job_model(), self.state.model_image()
        if model is None or image is None or not self.methods:
            return
        method = self.current_method()
        layer = self.current_layer()
        target = self.targets.target
        target = self.state.target_class() if target is None else target
        self.view.set_title(f"computing {self.methods[method].title} …")
        self._handle = self.runner.submit(
            partial(map_job, model, image, method, layer, target, self.form.values()),
            name=self.methods[method].title, key="attribution",
            on_finished=partial(self._show, model), on_error=self._on_error,
            on_cancelled=lambda: self.view.set_title("stopped"))

    def _show(self, model, result) -> None:
        from workbench.core.params import make

        self.result = result
        method = self.methods[result.method]
        passes = method.passes(model, result.layer, make(method.params_cls, self.form.values()))
        self.seconds_per_pass[model.name] = result.seconds / max(passes, 1.0)
        self.view.set_image(result.input_image)
        self.view.set_map(result.heat, units=UNITS)
        show_target_box(self.view, self.state)  # a detector's: which box is explained
        self.grid.set_input(result.input_image)
        where = f" at {result.layer}" if result.layer else ""
        self.view.set_title(f"{method.title} of “{result.label}” (class {result.target}, "
                            f"p = {result.prob:.1%}){where}")
        self.targets.show_top(result.top)
        self.classes.suggest(result.top)
        self.page.clear_score()
        self._show_estimate()

    def _on_error(self, message: str) -> None:
        self.view.set_title(message)
        self.state.error(message)

    def _on_style(self, style) -> None:
        for view in (self.view, self.grid, self.classes, self.images):
            view.set_style(style)

    def score_faithfulness(self) -> None:
        if self.result is None or self.state.model is None:
            return
        self.page.score_label.setText("scoring …")
        self.runner.submit(
            partial(faithfulness_job, self.state.job_model(), self.state.model_image(),
                    self.result.heat if self.result.clip_heat is None else self.result.clip_heat,
                    self.result.target),
            name="Faithfulness", key="faithfulness", on_finished=self.page.show_score,
            on_error=self.state.error)

    @property
    def score(self):
        return self.page.score

    @property
    def score_label(self):
        return self.page.score_label

    # ------------------------------------------------------------------ export
    def overlay_image(self, result=None) -> np.ndarray | None:
        """The map blended over the model input at twice its size (bicubic), as drawn."""
        from workbench.io.overlay import overlay

        result = result or self.result
        if result is None:
            return None
        style = self.display.current_style()
        image, heat = _enlarge(result.input_image, result.heat, EXPORT_SCALE)
        return overlay(image, heat, style.colormap, style.opacity, style.threshold,
                       style.scaling, UNITS)

    def figure_panels(self):
        """What the view in front shows, as export panels."""
        from workbench.io.figure import FigurePanel

        page = self.views.currentWidget()
        if page is self.grid:
            return self.grid.figure_panels(), self.grid.caption()
        if page in (self.classes, self.images):
            return [FigurePanel(self.overlay_image(r), v.title.text(), v.scale,
                                note=v.scale.warning() if v.scale else "")
                    for r, v in zip(page.results, page.views, strict=True)], \
                page.status.text()
        if self.result is None:
            return [], ""
        return [FigurePanel(self.overlay_image(), "", self.view.scale,
                            note=self.view.scale.warning())], self.view.title.text()

    def export_figure(self, path: str | None = None) -> str | None:
        from workbench.core.provenance import provenance

        panels, title = self.figure_panels()
        if not panels or self.state.model is None:
            self.state.error("Nothing to export yet: compute a map first")
            return None
        path = path or self.ask_figure_path("attribution.png")
        if not path:
            return None
        record = provenance(self.state.model, self.methods[self.current_method()].title,
                            self.current_layer(), self.form.values(),
                            image=self.state.input_name(),
                            display=vars(self.display.current_style()))
        return self.write_figure(path, panels, title, record)

    def export_map(self, path: str | None = None) -> str | None:
        from workbench.io.atomic import save_npy_atomic

        if self.result is None:
            return None
        path = path or QFileDialog.getSaveFileName(self, "Save raw map", "attribution.npy",
                                                   "NumPy (*.npy)")[0]
        if not path:
            return None
        save_npy_atomic(path, self.result.heat.astype(np.float32))
        self.state.info(f"Saved {path}")
        return path

    def demo(self) -> None:
        """For screenshots and lessons: the map's faithfulness curves (the map itself is
        computed as soon as the tab is shown)."""
        if self.result is None:
            self.refresh_now()
        else:
            self.score_faithfulness()

    def caption(self) -> str:
        model, result = self.state.model, self.result
        if model is None or result is None:
            return ""
        params = ", ".join(f"{k}={v}" for k, v in self.form.values().items())
        style = self.display.current_style()
        return (f"{self.methods[result.method].title} of '{result.label}' (class {result.target})"
                f" at {result.layer or 'the input'} on {self.state.input_name()}; {model.caption()}"
                + (f"; {params}" if params else "")
                + f"; display {style.colormap}, {style.scaling}")


def _enlarge(image, heat, scale):
    import torch
    from torch.nn import functional as F

    h, w = image.shape[:2]
    size = (h * scale, w * scale)
    pic = torch.from_numpy(image).permute(2, 0, 1)[None]
    pic = F.interpolate(pic, size=size, mode="bicubic", align_corners=False).clamp(0, 1)
    values = torch.from_numpy(np.ascontiguousarray(heat, dtype=np.float32))
    values = values[None, None] if values.ndim == 2 else values[None]
    mode = "bilinear" if values.ndim == 4 else "trilinear"
    size3 = size if values.ndim == 4 else (values.shape[2], *size)
    values = F.interpolate(values, size=size3, mode=mode, align_corners=False)[0]
    values = values[0] if heat.ndim == 2 else values
    return pic[0].permute(1, 2, 0).numpy(), values.numpy()
