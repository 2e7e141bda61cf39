"""The Occlusion tab: paint a mask and watch the prediction change live, or sweep a window
over the image for sensitivity maps (Zeiler & Fergus, https://arxiv.org/abs/1311.2901)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.tabs.base import TaskPanel
from workbench.ui.tabs.occlusion.class_map import class_colors, class_image, legend_html
from workbench.ui.tabs.occlusion.jobs import base_job, paint_job, sweep_job
from workbench.ui.tabs.occlusion.mask_canvas import TOOLS, MaskCanvas
from workbench.ui.widgets.charts import DeltaChart
from workbench.ui.widgets.display_controls import DisplayControls
from workbench.ui.widgets.overlay_view import OverlayView
from workbench.ui.widgets.param_form import ParamForm
from workbench.ui.widgets.target_picker import TargetPicker

REDRAW_MS = 150  # partial sweep results are drawn at most this often
FILL_CHOICES = ("grey", "mean", "blur", "noise", "black", "inpaint", "level")


class FillPicker(QWidget):
    """Fill mode, or a grey level when "level" is chosen."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.mode = QComboBox()
        self.mode.addItems(FILL_CHOICES)
        self.level = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, value=0.5)
        self.level.setEnabled(False)
        self.mode.currentTextChanged.connect(lambda t: self.level.setEnabled(t == "level"))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.mode, 1)
        row.addWidget(self.level)

    def value(self):
        mode = self.mode.currentText()
        return float(self.level.value()) if mode == "level" else mode


class OcclusionPanel(TaskPanel):
    title = "Occlusion"

    def __init__(self, state, runner, parent=None):
        super().__init__(state, runner, parent)
        self.setObjectName("OcclusionPanel")
        self.base = None  # (input image, probabilities) for the current model and image
        self.masked = None  # last MaskedPrediction
        self.sweep = None  # last OcclusionResult (possibly partial)
        self._sweep_handle = None
        self._pending_sweep = None
        self._redraw = QTimer(self, singleShot=True, interval=REDRAW_MS, timeout=self._draw_pending)
        self.targets = TargetPicker()
        self.targets.target_chosen.connect(lambda _t: self._on_target())
        self.modes = QTabWidget()
        self.modes.addTab(self._build_paint(), "Paint")
        self.modes.addTab(self._build_sweep(), "Sliding window")
        target_box = QGroupBox("Target class")
        QVBoxLayout(target_box).addWidget(self.targets)
        self.target_label = QLabel("")
        self.target_label.setWordWrap(True)
        target_box.layout().addWidget(self.target_label)
        splitter = QSplitter()
        splitter.addWidget(self.modes)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(target_box)
        side_layout.addWidget(self.chart, 1)
        splitter.addWidget(side)
        splitter.setSizes([700, 300])
        QVBoxLayout(self).addWidget(splitter)
        state.model_changed.connect(self._on_inputs_changed)
        state.image_changed.connect(self._on_inputs_changed)

    # --------------------------------------------------------------- building
    def _build_paint(self) -> QWidget:
        self.canvas = MaskCanvas()
        self.canvas.mask_edited.connect(self.predict_now)
        self.canvas.stroke_moved.connect(self.predict_now)
        self.canvas.brush_size_changed.connect(lambda size: self.brush.setValue(size))
        self.chart = DeltaChart()
        tools = QHBoxLayout()
        self.tool_buttons = QButtonGroup(self)
        for tool in TOOLS:
            button = QToolButton(text=tool.capitalize(), checkable=True)
            button.setObjectName(f"tool-{tool}")
            button.setChecked(tool == "brush")
            button.clicked.connect(lambda _c=False, t=tool: setattr(self.canvas, "tool", t))
            self.tool_buttons.addButton(button)
            tools.addWidget(button)
        tools.addStretch(1)
        self.brush = QSlider(minimum=1, maximum=200, value=self.canvas.brush_size)
        self.brush.setOrientation(pg.QtCore.Qt.Orientation.Horizontal)
        self.brush.valueChanged.connect(lambda v: setattr(self.canvas, "brush_size", v))
        self.fill = FillPicker()
        self.fill.mode.currentTextChanged.connect(self.predict_now)
        self.fill.level.valueChanged.connect(self.predict_now)
        self.show_model_view = QToolButton(text="Show what the model sees", checkable=True)
        self.show_model_view.toggled.connect(self._refresh_canvas_base)
        edits = QGridLayout()
        actions = (("Undo", self.canvas.undo, QKeySequence.StandardKey.Undo),
                   ("Redo", self.canvas.redo, QKeySequence.StandardKey.Redo),
                   ("Invert", self.canvas.invert, None),
                   ("Clear", self.canvas.clear, None),
                   ("Save mask…", self.save_mask, None),
                   ("Load mask…", self.load_mask, None))
        for number, (text, slot, keys) in enumerate(actions):
            button = QPushButton(text)
            button.clicked.connect(slot)
            edits.addWidget(button, number // 3, number % 3)
            if keys is not None:
                QShortcut(keys, self, activated=slot)
        form = QFormLayout()
        form.addRow("Brush size", self.brush)
        form.addRow("Fill", self.fill)
        form.addRow("", self.show_model_view)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addLayout(tools)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(form)
        layout.addLayout(edits)
        return page

    def _build_sweep(self) -> QWidget:
        self.sweep_form = ParamForm()  # filled once torch is loaded (the first model)
        self.sweep_fill = FillPicker()
        run = QPushButton("Run")
        run.setObjectName("runSweep")
        run.clicked.connect(self.run_sweep)
        stop = QPushButton("Stop")
        stop.clicked.connect(lambda: self.runner.cancel(self._sweep_handle))
        self.sweep_status = QLabel("")
        self.drop_view = OverlayView(title="drop in p(target)")
        self.class_view = OverlayView(title="most probable class")
        self.winner_view = OverlayView(title="p(winning class)")
        self.legend = QLabel("")
        self.legend.setWordWrap(True)
        self.display = DisplayControls()
        self.display.changed.connect(self._restyle)
        exports = QVBoxLayout()
        for text, slot in (("Export overlay…", self.export_overlay),
                           ("Save grid…", self.export_grid)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            exports.addWidget(button)
        self.sweep_form.layout().setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        top = QHBoxLayout()
        top.addWidget(self.sweep_form)
        fill_box = QFormLayout()
        fill_box.addRow("Fill", self.sweep_fill)
        fill_box.addRow(run, stop)
        fill_box.addRow(self.sweep_status)
        top.addLayout(fill_box)
        top.addStretch(1)
        views = QGridLayout()
        for column, view in enumerate((self.drop_view, self.class_view, self.winner_view)):
            views.addWidget(view, 0, column)
            views.setColumnStretch(column, 1)
        views.addWidget(self.legend, 1, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.display, 1)
        export_column = QVBoxLayout()
        export_column.addLayout(exports)
        export_column.addStretch(1)
        bottom.addLayout(export_column)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addLayout(top)
        layout.addLayout(views, 1)
        layout.addLayout(bottom)
        return page

    # ------------------------------------------------------------------ inputs
    def _on_inputs_changed(self, *_args) -> None:
        self.base, self.masked, self.sweep = None, None, None
        if self.state.model is not None:
            self.targets.set_labels(self.state.model.labels)
            from workbench.core.occlusion.sliding import OcclusionParams

            self.sweep_form.set_params(OcclusionParams)
        self.request_refresh()

    def refresh_now(self) -> None:
        model, image = self.state.model, self.state.image
        if model is None or image is None:
            return
        if model.kind == "video":
            self.target_label.setText("Occlusion works on image models.")
            return
        self.runner.submit(partial(base_job, model, image), name="Occlusion: unmasked input",
                           key="occlusion-base", on_finished=partial(self._on_base, model, image),
                           on_error=self.state.error)

    def _on_base(self, model, image, result) -> None:
        if model is not self.state.model or image is not self.state.image:
            return
        self.base = result
        picture, probs = result
        self.canvas.set_base(picture)
        order = np.argsort(-probs)[:5]
        from workbench.core.predict import ClassScore

        self.targets.show_top([ClassScore(int(i), model.label(int(i)), float(probs[i]))
                               for i in order])
        self.predict_now()

    def _on_target(self) -> None:
        self._show_target()

    # ------------------------------------------------------------------- paint
    def predict_now(self, *_args) -> None:
        model, image = self.state.model, self.state.image
        if model is None or image is None or self.base is None:
            return
        self.runner.submit(
            partial(paint_job, model, image, self.canvas.mask.copy(), self.fill.value(), 5,
                    self.base[1]),
            name="Occluded prediction", key="occlusion-paint",
            on_finished=self._on_masked, on_error=self.state.error)

    def _on_masked(self, result) -> None:
        self.masked = result
        self.chart.show_rows(result.rows())
        self._show_target()
        self._refresh_canvas_base()

    def _show_target(self) -> None:
        if self.masked is None or self.state.model is None:
            return
        target = self.targets.target
        if target is None:
            target = int(np.argmax(self.masked.base_probs))
        before, after = self.masked.base_probs[target], self.masked.probs[target]
        self.target_label.setText(f"<b>{self.state.model.label(target)}</b>: {before:.1%} → "
                                  f"{after:.1%} ({after - before:+.1%})")

    def _refresh_canvas_base(self, *_args) -> None:
        if self.base is None:
            return
        show_masked = self.show_model_view.isChecked() and self.masked is not None
        picture = self.masked.masked_image if show_masked else self.base[0]
        self.canvas.set_image(picture)

    def save_mask(self, path: str | None = None) -> str | None:
        from workbench.io.masks import save_mask

        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save mask", "mask.png", "PNG (*.png)")
        if path:
            save_mask(path, self.canvas.mask)
            self.state.info(f"Saved mask {path}")
        return path or None

    def load_mask(self, path: str | None = None) -> None:
        from workbench.core.occlusion.paint import mask_tensor
        from workbench.errors import WorkbenchError
        from workbench.io.masks import load_mask

        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Load mask", "", "Images (*.png)")
        if not path:
            return
        try:
            mask = load_mask(path)
        except WorkbenchError as exc:
            self.state.error(str(exc))
            return
        resized = mask_tensor(mask, self.canvas.mask.shape, "cpu")[0, 0].numpy() > 0.5
        self.canvas.set_mask(resized)

    # ---------------------------------------------------------------- sweep
    def run_sweep(self) -> None:
        from workbench.core.occlusion.sliding import OcclusionParams
        from workbench.core.params import make
        from workbench.errors import WorkbenchError

        model, image = self.state.model, self.state.image
        if model is None or image is None:
            return
        try:
            params = make(OcclusionParams, self.sweep_form.values())
        except WorkbenchError as exc:
            self.state.error(str(exc))
            return
        self.sweep = None
        self.sweep_status.setText("running …")
        self._sweep_handle = self.runner.submit(
            partial(sweep_job, model, image, self.sweep_fill.value(), self.targets.target,
                    params),
            name="Occlusion sweep", key="occlusion-sweep",
            on_partial=self._queue_sweep, on_finished=self._on_sweep_done,
            on_cancelled=self._on_sweep_cancelled, on_error=self.state.error)

    def _queue_sweep(self, result) -> None:
        """Keep the newest partial result; draw at most every REDRAW_MS (the GUI stays free)."""
        self._pending_sweep = result
        self.sweep = result
        if not self._redraw.isActive():
            self._redraw.start()

    def _draw_pending(self) -> None:
        if self._pending_sweep is not None:
            result, self._pending_sweep = self._pending_sweep, None
            self._on_sweep(result)

    def _on_sweep(self, result) -> None:
        self.sweep = result
        picture = self.base[0] if self.base is not None else None
        for view in (self.drop_view, self.class_view, self.winner_view):
            if picture is not None and view.image is None:
                view.set_image(picture)
        label = self.state.model.label(result.target) if self.state.model else result.target
        self.drop_view.set_title(f"drop in p({label})")
        self.drop_view.set_map(result.pixel_map())
        self.winner_view.set_map(result.pixel_map(np.nan_to_num(result.top_prob)))
        colors = class_colors(result.top_class)
        classes, counts = np.unique(result.top_class[result.top_class >= 0], return_counts=True)
        self.class_view.set_map(None)
        self._show_class_map(result, colors)
        if self.state.model is not None:
            self.legend.setText(legend_html(colors, self.state.model.labels,
                                            dict(zip(classes.tolist(), counts.tolist(),
                                                     strict=True))))
        self.sweep_status.setText(f"{result.done} / {result.total} windows")

    def _show_class_map(self, result, colors) -> None:
        rgba = class_image(result.top_class, colors)
        h, w = result.input_size
        item = self.class_view.overlay
        item.setImage(rgba, autoLevels=False, levels=(0, 255))
        rows, cols = result.top_class.shape
        item.setRect(0, 0, (cols - 1) * result.stride + result.window,
                     (rows - 1) * result.stride + result.window)
        item.setOpacity(0.6)

    def _on_sweep_done(self, result) -> None:
        self._redraw.stop()
        self._pending_sweep = None
        self._on_sweep(result)
        self.sweep_status.setText(f"done: {result.total} windows")

    def _on_sweep_cancelled(self) -> None:
        self._draw_pending()
        done = self.sweep.done if self.sweep is not None else 0
        self.sweep_status.setText(f"stopped: kept {done} windows")

    def _restyle(self, style) -> None:
        self.drop_view.set_style(style)
        self.winner_view.set_style(style)

    def export_overlay(self, path: str | None = None) -> str | None:
        from workbench.io.export import save_png
        from workbench.io.overlay import overlay

        if self.sweep is None or self.base is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export overlay", "occlusion.png",
                                                  "PNG (*.png)")
        if not path:
            return None
        style = self.display.current_style()
        picture = overlay(self.base[0], self.sweep.pixel_map(), style.colormap, style.opacity,
                          style.threshold, style.normalized)
        save_png(path, picture, {"Caption": self.caption()})
        return path

    def export_grid(self, path: str | None = None) -> str | None:
        from workbench.io.atomic import save_npy_atomic

        if self.sweep is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save grid", "occlusion.npy",
                                                  "NumPy (*.npy)")
        if path:
            save_npy_atomic(path, self.sweep.target_prob.astype(np.float32))
        return path or None

    def caption(self) -> str:
        model = self.state.model
        if model is None:
            return ""
        if self.modes.currentIndex() == 1 and self.sweep is not None:
            values = self.sweep_form.values()
            return (f"Occlusion sweep of '{model.label(self.sweep.target)}', window "
                    f"{values['window']}, stride {values['stride']}, fill "
                    f"{self.sweep_fill.value()} on {self.state.image_name}; {model.caption()}")
        hidden = float(self.canvas.mask.mean())
        return (f"Painted occlusion ({hidden:.0%} hidden, fill {self.fill.value()}) on "
                f"{self.state.image_name}; {model.caption()}")

    def set_dark(self, dark: bool) -> None:
        self.chart.dark = dark
        super().set_dark(dark)



