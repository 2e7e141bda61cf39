"""The Attribution tab: a map over the image (live display controls), target / layer /
method pickers with a generated parameter form, faithfulness scores, a comparison grid,
and exports."""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
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
from workbench.ui.tabs.base import TaskPanel
from workbench.ui.widgets.display_controls import DisplayControls
from workbench.ui.widgets.overlay_view import OverlayView
from workbench.ui.widgets.param_form import ParamForm
from workbench.ui.widgets.target_picker import TargetPicker

EXPORT_SCALE = 2


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
        self.score = None
        self.view = OverlayView(title=" ")
        self.controls = self._build_controls()
        self.grid = CompareGrid(state, runner)
        views = QTabWidget()
        views.addTab(self.view, "Map")
        views.addTab(self.grid, "Compare")
        self.views = views
        self.lay_out(views, self.controls)
        state.model_changed.connect(self._on_model)
        state.image_changed.connect(self._on_image)
        state.layer_changed.connect(self._on_state_layer)

    # ----------------------------------------------------------------- building
    def _build_controls(self) -> QWidget:
        self.targets = TargetPicker()
        self.targets.target_chosen.connect(self._on_target)
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("methodCombo")
        self.method_combo.currentIndexChanged.connect(self._on_method)
        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("layerCombo")
        for combo in (self.method_combo, self.layer_combo):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
        self.layer_combo.activated.connect(self._on_layer_combo)
        self.form = ParamForm()
        self.form.changed.connect(self.request_refresh)
        self.live = QCheckBox("Recompute on every change")
        self.live.setChecked(True)
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("runAttribution")
        self.run_button.clicked.connect(self.refresh_now)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopAttribution")
        self.stop_button.clicked.connect(lambda: self.runner.cancel(self._handle))
        self._handle = None
        self.display = DisplayControls()
        self.display.changed.connect(self._on_style)
        self.score_button = QPushButton("Score faithfulness")
        self.score_button.clicked.connect(self.score_faithfulness)
        self.score_label = QLabel("")
        self.score_label.setWordWrap(True)
        self.curves = pg.PlotWidget()
        self.curves.setMinimumHeight(130)
        self.curves.setLabel("bottom", "fraction of pixels")
        self.curves.setLabel("left", "p(target)")
        self.curves.getAxis("left").enableAutoSIPrefix(False)
        self.curves.setYRange(0.0, 1.0, padding=0.02)
        self.curves.addLegend(offset=(-5, 5))
        exports = QHBoxLayout()
        for text, slot in (("Overlay…", self.export_overlay), ("Raw map…", self.export_map),
                           ("Grid…", self.export_grid)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            exports.addWidget(button)
        method_box = QGroupBox("Method")
        method_form = QFormLayout(method_box)
        method_form.addRow("Method", self.method_combo)
        method_form.addRow("Layer", self.layer_combo)
        method_form.addRow(self.form)
        method_form.addRow(self.live)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        method_form.addRow(buttons)
        target_box = QGroupBox("Target class")
        QVBoxLayout(target_box).addWidget(self.targets)
        display_box = QGroupBox("Display")
        QVBoxLayout(display_box).addWidget(self.display)
        faith_box = QGroupBox("Faithfulness (deletion / insertion)")
        faith = QVBoxLayout(faith_box)
        faith.addWidget(self.score_button)
        faith.addWidget(self.score_label)
        faith.addWidget(self.curves)
        export_box = QGroupBox("Export")
        export_box.setLayout(exports)
        body = QWidget()
        column = QVBoxLayout(body)
        for box in (target_box, method_box, display_box, faith_box, export_box):
            column.addWidget(box)
        column.addStretch(1)
        return body

    # ------------------------------------------------------------------ inputs
    def current_method(self) -> str:
        return self.method_combo.currentData()

    def current_layer(self) -> str | None:
        return self.layer_combo.currentData() if self.layer_combo.isEnabled() else None

    def _load_methods(self) -> None:
        self.methods = method_catalogue()
        self.method_combo.blockSignals(True)
        for name, method in self.methods.items():
            self.method_combo.addItem(method.title, name)
        self.method_combo.blockSignals(False)
        self.grid.set_methods({n: m.title for n, m in self.methods.items()})
        self._on_method()

    def _on_model(self, model) -> None:
        self.layer_combo.clear()
        self.result = None
        if model is None:
            return
        if not self.methods:
            self._load_methods()
        self.targets.set_labels(model.labels)
        for layer in model.layers:
            if layer.is_spatial or layer.is_tokens:
                star = "  ★" if layer.name == model.default_cam_layer else ""
                shape = "×".join(map(str, layer.output_shape[1:]))
                self.layer_combo.addItem(f"{layer.name}{star}  ({shape})", layer.name)
        self._select_layer(self.state.layer or model.default_cam_layer)
        self.request_refresh()

    def _on_image(self, _image) -> None:
        self.targets.choose(None, emit=False)
        self.request_refresh()

    def _on_state_layer(self, name: str) -> None:
        if self._select_layer(name):
            self.request_refresh()

    def _select_layer(self, name: str | None) -> bool:
        index = self.layer_combo.findData(name)
        if index < 0 or index == self.layer_combo.currentIndex():
            return False
        self.layer_combo.setCurrentIndex(index)
        return True

    def _on_layer_combo(self, _index: int) -> None:
        self.state.set_layer(self.layer_combo.currentData())
        self.request_refresh()

    def _on_method(self, *_args) -> None:
        if not self.methods:
            return
        method = self.methods[self.current_method()]
        self.form.set_params(method.params_cls)
        self.layer_combo.setEnabled(method.needs_layer)
        self.request_refresh()

    def _on_target(self, _target) -> None:
        self.grid.target = self.targets.target
        self.request_refresh()

    def request_refresh(self, *_args) -> None:
        if self.live.isChecked():
            super().request_refresh()

    # ----------------------------------------------------------------- compute
    def refresh_now(self) -> None:
        model, image = self.state.model, self.state.image
        if model is None or image is None or not self.methods:
            return
        method = self.current_method()
        layer = self.current_layer()
        self.view.set_title(f"computing {self.methods[method].title} …")
        self._handle = self.runner.submit(
            partial(map_job, model, image, method, layer, self.targets.target,
                    self.form.values()),
            name=self.methods[method].title, key="attribution",
            on_finished=partial(self._show, model), on_error=self._on_error,
            on_cancelled=lambda: self.view.set_title("stopped"))

    def _show(self, model, result) -> None:
        self.result, self.score = result, None
        self.view.set_image(result.input_image)
        self.view.set_map(result.heat)
        self.grid.set_input(result.input_image)
        where = f" at {result.layer}" if result.layer else ""
        self.view.set_title(f"{self.methods[result.method].title} of “{result.label}”{where}")
        self.targets.show_top(result.top)
        self.score_label.setText("")
        self.curves.clear()

    def _on_error(self, message: str) -> None:
        self.view.set_title(message)
        self.state.error(message)

    def _on_style(self, style) -> None:
        self.view.set_style(style)
        self.grid.set_style(style)

    def score_faithfulness(self) -> None:
        if self.result is None or self.state.model is None:
            return
        self.score_label.setText("scoring …")
        self.runner.submit(
            partial(faithfulness_job, self.state.model, self.state.image, self.result.heat,
                    self.result.target),
            name="Faithfulness", key="faithfulness", on_finished=self._show_score,
            on_error=self.state.error)

    def _show_score(self, score) -> None:
        self.score = score
        self.score_label.setText(f"deletion AUC {score.deletion_auc:.3f} (lower is better) · "
                                 f"insertion AUC {score.insertion_auc:.3f} (higher is better)")
        self.curves.clear()
        self.curves.plot(score.fractions, score.deletion, pen=pg.mkPen("#d9534f", width=2),
                         name="deletion")
        self.curves.plot(score.fractions, score.insertion, pen=pg.mkPen("#3d7bd9", width=2),
                         name="insertion")

    # ------------------------------------------------------------------ export
    def overlay_image(self) -> np.ndarray | None:
        from workbench.io.overlay import overlay

        if self.result is None:
            return None
        style = self.display.current_style()
        image, heat = self.result.input_image, self.result.heat
        if EXPORT_SCALE > 1:
            image, heat = _enlarge(image, heat, EXPORT_SCALE)
        return overlay(image, heat, style.colormap, style.opacity, style.threshold,
                       style.normalized)

    def export_overlay(self, path: str | None = None) -> str | None:
        from workbench.io.export import save_png

        path = path or _ask_path(self, "Export overlay", "attribution.png", "PNG (*.png)")
        image = self.overlay_image()
        if not path or image is None:
            return None
        save_png(path, image, {"Caption": self.caption()})
        self.state.info(f"Saved {path}")
        return path

    def export_map(self, path: str | None = None) -> str | None:
        from workbench.io.atomic import save_npy_atomic

        path = path or _ask_path(self, "Save raw map", "attribution.npy", "NumPy (*.npy)")
        if not path or self.result is None:
            return None
        save_npy_atomic(path, self.result.heat.astype(np.float32))
        self.state.info(f"Saved {path}")
        return path

    def export_grid(self, path: str | None = None) -> str | None:
        from workbench.io.atomic import write_bytes_atomic
        from workbench.ui.widgets.qt_images import png_bytes

        path = path or _ask_path(self, "Export grid", "attribution-grid.png", "PNG (*.png)")
        if not path:
            return None
        write_bytes_atomic(path, png_bytes(self.grid.grid_host.grab(), self.caption()))
        self.state.info(f"Saved {path}")
        return path

    def caption(self) -> str:
        model, result = self.state.model, self.result
        if model is None or result is None:
            return ""
        params = ", ".join(f"{k}={v}" for k, v in self.form.values().items())
        style = self.display.current_style()
        return (f"{self.methods[result.method].title} of '{result.label}' (class {result.target})"
                f" at {result.layer or 'the input'} on {self.state.image_name}; {model.caption()}"
                + (f"; {params}" if params else "")
                + f"; display {style.colormap}, {'normalized' if style.normalized else 'raw'}")



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


def _ask_path(parent, title, default, pattern) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, title, default, pattern)
    return path
