"""The Occlusion tab's sliding-window mode: the three maps of a sweep (drop in p(target),
most probable class with its legend, that class's probability), each window drawn where
it was applied, with colour bars; and the sweep's controls."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.tabs.occlusion.class_map import class_colors, class_image
from workbench.ui.tabs.occlusion.paint_page import FillPicker
from workbench.ui.widgets.detection_overlay import show_target_box
from workbench.ui.widgets.display_controls import DisplayControls
from workbench.ui.widgets.forms import row, stacked
from workbench.ui.widgets.legend import Legend
from workbench.ui.widgets.overlay_view import OverlayView
from workbench.ui.widgets.param_form import ParamForm

CLASS_OPACITY = 0.6


class SweepPage:
    """Builds ``views`` and ``controls``; the panel gets the views, form, fill, status,
    legend and display controls as attributes."""

    def __init__(self, panel):
        self.panel = panel
        panel.drop_view = OverlayView(title="drop in p(target)")
        panel.class_view = OverlayView(title="most probable class")
        panel.winner_view = OverlayView(title="p(most probable class)")
        panel.legend = Legend("Classes")
        self.views = QWidget()
        grid = QGridLayout(self.views)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(panel.drop_view, 0, 0)  # two by two: each map as large as it can be
        grid.addWidget(panel.class_view, 0, 1)
        grid.addWidget(panel.winner_view, 1, 0)
        grid.addWidget(panel.legend, 1, 1)
        for index in (0, 1):
            grid.setColumnStretch(index, 1)
            grid.setRowStretch(index, 1)
        self.controls = self._controls()

    def _controls(self) -> QWidget:
        panel = self.panel
        panel.sweep_form = ParamForm()  # filled once torch is loaded (the first model)
        panel.sweep_fill = FillPicker()
        run = QPushButton("Run")
        run.setObjectName("runSweep")
        run.setToolTip("slide the window over the image and record each prediction")
        run.clicked.connect(panel.run_sweep)
        stop = QPushButton("Stop")
        stop.setToolTip("stop the sweep; the windows done so far stay")
        stop.clicked.connect(lambda: panel.runner.cancel(panel._sweep_handle))
        panel.sweep_run, panel.sweep_stop = run, stop
        panel.sweep_status = QLabel("Choose a window and a stride, then Run.")
        panel.sweep_status.setWordWrap(True)
        panel.display = DisplayControls()
        panel.display.changed.connect(panel.restyle)
        figure = QPushButton("Figure…")
        figure.setToolTip("PNG or SVG of the three maps with colour bars, legend and provenance")
        figure.clicked.connect(lambda: panel.export_figure())
        panel.sweep_figure = figure
        grid_button = QPushButton("Grid…")
        grid_button.setToolTip("p(target) for each window position as float32 .npy")
        grid_button.clicked.connect(lambda: panel.export_grid())
        box = QGroupBox("Sweep")
        form = QFormLayout(box)
        form.addRow(panel.sweep_form)
        form.addRow("Fill", panel.sweep_fill)
        form.addRow(row(run, stop))
        form.addRow(panel.sweep_status)
        display = QGroupBox("Display")
        QVBoxLayout(display).addWidget(panel.display)
        exports = QGroupBox("Export")
        exports.setLayout(row(figure, grid_button))
        return stacked(box, display, exports)

    def show(self, result, picture, labels, target_label) -> None:
        """Draw a (possibly partial) sweep: every map on the same window geometry."""
        panel = self.panel
        rect = result.grid_rect()
        for view in (panel.drop_view, panel.class_view, panel.winner_view):
            if picture is not None and view.image is None:
                view.set_image(picture)
        panel.drop_view.set_title(f"drop in p({target_label})")
        panel.drop_view.set_map(result.drop, units=f"drop in p({target_label})", rect=rect)
        show_target_box(panel.drop_view, panel.state)
        panel.winner_view.set_map(result.top_prob, units="p(most probable class)", rect=rect)
        colors = class_colors(result.top_class)
        item = panel.class_view.overlay
        item.setImage(class_image(result.top_class, colors), autoLevels=False, levels=(0, 255))
        item.setRect(*rect)
        item.setOpacity(CLASS_OPACITY)
        classes, counts = np.unique(result.top_class[result.top_class >= 0], return_counts=True)
        count_of = dict(zip(classes.tolist(), counts.tolist(), strict=True))
        panel.legend.set_entries([(index, labels[index] if index < len(labels) else
                                   f"class {index}", color, count_of[index])
                                  for index, color in colors.items()])

    def clear(self) -> None:
        panel = self.panel
        for view in (panel.drop_view, panel.class_view, panel.winner_view):
            view.set_map(None)
            view.overlay.clear()
            view.set_image(None)
        panel.legend.set_entries([])
