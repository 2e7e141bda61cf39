"""The Occlusion tab: paint a mask and watch the prediction change live, or sweep a window
over the image for sensitivity maps (Zeiler & Fergus, https://arxiv.org/abs/1311.2901)."""

from __future__ import annotations

from functools import partial

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.tabs.base import TaskPanel
from workbench.ui.tabs.occlusion.jobs import base_job, paint_job, sweep_job
from workbench.ui.tabs.occlusion.paint_page import PaintPage
from workbench.ui.tabs.occlusion.sweep_page import SweepPage
from workbench.ui.widgets.target_line import TargetLine
from workbench.ui.widgets.target_picker import TargetPicker

REDRAW_MS = 150  # partial sweep results are drawn at most this often


class OcclusionPanel(TaskPanel):
    title = "Occlusion"

    def __init__(self, state, runner, parent=None):
        super().__init__(state, runner, parent)
        self.setObjectName("OcclusionPanel")
        self.base = None  # (input image, probabilities) for the current model and image
        self.masked = None  # last MaskedPrediction
        self.sweep = None  # last OcclusionResult (possibly partial)
        self.sweep_model = self.sweep_used_fill = None  # the model and fill the sweep ran with
        self._sweep_handle = None
        self._pending_sweep = None
        self._redraw = QTimer(self, singleShot=True, interval=REDRAW_MS, timeout=self._draw_pending)
        self.targets = TargetPicker()
        self.targets.target_chosen.connect(lambda _t: self._show_target())
        self.paint = PaintPage(self)
        self.sweeps = SweepPage(self)
        self.modes = QTabWidget()
        self.modes.addTab(self.paint.views, "Paint")
        self.modes.addTab(self.sweeps.views, "Sliding window")
        mode_controls = QStackedWidget()
        mode_controls.addWidget(self.paint.controls)
        mode_controls.addWidget(self.sweeps.controls)
        self.modes.currentChanged.connect(mode_controls.setCurrentIndex)
        target_box = QGroupBox("Target class")
        target_layout = QVBoxLayout(target_box)
        target_layout.addWidget(TargetLine(state))
        target_layout.addWidget(self.targets)
        body = QWidget()
        column = QVBoxLayout(body)
        column.addWidget(target_box)
        column.addWidget(mode_controls, 1)
        self.lay_out(self.modes, body)
        self.add_shortcuts(run=self.sweep_run, stop=self.sweep_stop, export=self.sweep_figure)
        state.model_changed.connect(self._on_inputs_changed)
        state.image_changed.connect(self._on_inputs_changed)
        state.target_changed.connect(self._on_inputs_changed)

    # ------------------------------------------------------------------ inputs
    def _on_inputs_changed(self, *_args) -> None:
        self.base, self.masked, self.sweep = None, None, None
        self.sweeps.clear()
        model = self.state.job_model() or self.state.model  # a dense model: its scored one
        if model is not None:
            self.targets.set_labels(model.labels)
            from workbench.core.occlusion.sliding import OcclusionParams

            self.sweep_form.set_params(OcclusionParams)
        self.request_refresh()

    def refresh_now(self) -> None:
        model, image = self.state.job_model(), self.state.model_image()
        if model is None or image is None:
            return
        self.runner.submit(partial(base_job, model, image), name="Occlusion: unmasked input",
                           key="occlusion-base", on_finished=partial(self._on_base, model, image),
                           on_error=self.state.error)

    def _on_base(self, model, image, result) -> None:
        if model is not self.state.job_model() or image is not self.state.model_image():
            return
        from workbench.core.predict import ClassScore

        self.base = result
        picture, probs = result
        self.canvas.set_base(picture)
        order = np.argsort(-probs)[:5]
        self.targets.show_top([ClassScore(int(i), model.label(int(i)), float(probs[i]))
                               for i in order])
        self.predict_now()

    # ------------------------------------------------------------------- paint
    def predict_now(self, *_args) -> None:
        model, image = self.state.job_model(), self.state.model_image()
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
        self.refresh_canvas_base()

    def _show_target(self) -> None:
        model = self.state.job_model()
        if self.masked is None or model is None:
            return
        target = self.targets.target
        target = self.state.target_class() if target is None else target
        if target is None:
            target = int(np.argmax(self.masked.base_probs))
        before, after = self.masked.base_probs[target], self.masked.probs[target]
        change = after - before
        text = f"{change:+.1%}" if abs(change) >= 0.0005 else "no change"
        self.target_label.setText(f"<b>{model.label(target)}</b>: {before:.1%} → "
                                  f"{after:.1%} ({text}) · {self.canvas.mask.mean():.0%} hidden")

    def refresh_canvas_base(self, *_args) -> None:
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

        model, image = self.state.job_model(), self.state.model_image()
        if model is None or image is None:
            return
        try:
            params = make(OcclusionParams, self.sweep_form.values())
        except WorkbenchError as exc:
            self.state.error(str(exc))
            return
        self.sweep = None
        self.sweep_model, self.sweep_used_fill = model, self.sweep_fill_value()
        self.sweeps.clear()
        self.sweep_status.setText("running …")
        self._sweep_handle = self.runner.submit(
            partial(sweep_job, model, image, self.sweep_fill.value(),
                    self.state.target_class() if self.targets.target is None
                    else self.targets.target, params),
            name="Occlusion sweep", key="occlusion-sweep",
            on_partial=self._queue_sweep, on_finished=self._on_sweep_done,
            on_cancelled=self._on_sweep_cancelled, on_error=self.state.error)

    def sweep_fill_value(self):
        """The sweep's fill as the core takes it (a grey level or a fill name)."""
        from workbench.core.occlusion import parse_fill

        return parse_fill(self.sweep_fill.value())

    def painted_mask(self):
        """The painted mask ``(H, W)`` (white = hidden), or ``None`` when nothing is painted."""
        mask = getattr(self.canvas, "mask", None)
        return mask if mask is not None and mask.size > 1 and mask.any() else None

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
        model = self.state.job_model() or self.state.model
        labels = model.labels if model is not None else []
        label = model.label(result.target) if model is not None else str(result.target)
        picture = self.base[0] if self.base is not None else None
        self.sweeps.show(result, picture, labels, label)
        self.restyle(self.display.current_style())
        self.sweep_status.setText(f"{result.done} / {result.total} windows")

    def _on_sweep_done(self, result) -> None:
        self._redraw.stop()
        self._pending_sweep = None
        self._on_sweep(result)
        self.sweep_status.setText(f"done: {result.total} windows")

    def _on_sweep_cancelled(self) -> None:
        self._draw_pending()
        done = self.sweep.done if self.sweep is not None else 0
        self.sweep_status.setText(f"stopped: kept {done} windows")

    def restyle(self, style) -> None:
        self.drop_view.set_style(style)
        self.winner_view.set_style(style)

    # ------------------------------------------------------------------ export
    def figure_panels(self):
        from workbench.io.figure import FigurePanel
        from workbench.io.overlay import overlay

        style, base, sweep = self.display.current_style(), self.base[0], self.sweep
        panels = []
        for view, values in ((self.drop_view, sweep.drop), (self.winner_view, sweep.top_prob)):
            picture = overlay(base, sweep.pixel_map(values), style.colormap, style.opacity,
                              style.threshold, style.scaling, view.units)
            panels.append(FigurePanel(picture, view.title.text(), view.scale,
                                      note=view.scale.warning() if view.scale else ""))
        from workbench.ui.tabs.occlusion.class_map import class_colors, class_image

        rgba = class_image(sweep.top_class, class_colors(sweep.top_class)).astype(np.float32)
        tiles = np.stack([sweep.pixel_map(rgba[..., c]) for c in range(4)], axis=-1) / 255.0
        alpha = np.nan_to_num(tiles[..., 3:]) * 0.6
        picture = base * (1 - alpha) + np.nan_to_num(tiles[..., :3]) * alpha
        panels.insert(1, FigurePanel(picture, "most probable class",
                                     legend=self.legend.figure_entries()))
        return panels

    def export_figure(self, path: str | None = None) -> str | None:
        from workbench.core.provenance import provenance

        if self.sweep is None or self.base is None or self.state.model is None:
            self.state.error("Nothing to export yet: run a sweep first")
            return None
        path = path or self.ask_figure_path("occlusion.png")
        if not path:
            return None
        values = self.sweep_form.values()
        record = provenance(self.state.model, "occlusion sweep", None,
                            {**values, "fill": self.sweep_fill.value()},
                            image=self.state.input_name(),
                            target=self.state.model.label(self.sweep.target))
        return self.write_figure(path, self.figure_panels(), self.caption(), record)

    def export_overlay(self, path: str | None = None) -> str | None:
        return self.export_figure(path)

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

    def demo(self) -> None:
        """For screenshots and lessons: a sweep of 32-px windows every 16 px."""
        self.modes.setCurrentIndex(1)
        self.run_sweep()

    def caption(self) -> str:
        model = self.state.model
        if model is None:
            return ""
        if self.modes.currentIndex() == 1 and self.sweep is not None:
            values = self.sweep_form.values()
            return (f"Occlusion sweep of '{model.label(self.sweep.target)}', window "
                    f"{values['window']}, stride {values['stride']}, fill "
                    f"{self.sweep_fill.value()} on {self.state.input_name()}; {model.caption()}")
        hidden = float(self.canvas.mask.mean())
        return (f"Painted occlusion ({hidden:.0%} hidden, fill {self.fill.value()}) on "
                f"{self.state.input_name()}; {model.caption()}")
