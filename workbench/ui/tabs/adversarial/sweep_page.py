"""The Adversarial tab's epsilon sweep: the attack at several budgets at once, plotted as
p(true class), p(target) and p(top-1) against ε; click a point to see that image."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QPushButton,
    QSpinBox,
    QWidget,
)

from workbench.ui.theme import current_theme, style_plot
from workbench.ui.widgets.forms import split, stacked
from workbench.ui.widgets.image_view import ImageView


class SweepPage:
    """``views`` (plot | picked image) and ``controls``; attributes land on the panel."""

    def __init__(self, panel):
        self.panel = panel
        panel.sweep_plot = pg.PlotWidget()
        panel.sweep_plot.setLabel("bottom", "budget ε (/255)")
        panel.sweep_plot.setLabel("left", "probability")
        panel.sweep_plot.getAxis("left").enableAutoSIPrefix(False)
        panel.sweep_plot.setMinimumSize(160, 140)
        panel.sweep_plot.addLegend(offset=(-5, 5))
        panel.sweep_view = ImageView(title="click a point")
        panel.sweep_view.setMinimumWidth(120)
        self.views = split(False, panel.sweep_plot, panel.sweep_view, stretch=(3, 2))
        self.controls = self._controls()

    def _controls(self) -> QWidget:
        panel = self.panel
        panel.eps_from = QDoubleSpinBox(minimum=0.0, maximum=255.0, value=0.0, suffix=" /255")
        panel.eps_from.setToolTip("the smallest budget")
        panel.eps_to = QDoubleSpinBox(minimum=0.0, maximum=255.0, value=16.0, suffix=" /255")
        panel.eps_to.setToolTip("the largest budget")
        panel.eps_count = QSpinBox(minimum=2, maximum=64, value=9)
        panel.eps_count.setToolTip("budgets between the two, evenly spaced (one batch)")
        run = QPushButton("Run sweep")
        run.setObjectName("runSweep")
        run.setToolTip("the chosen attack at every budget, in one batch")
        run.clicked.connect(panel.run_sweep)
        panel.sweep_run = run
        box = QGroupBox("Epsilon sweep")
        form = QFormLayout(box)
        form.addRow("From", panel.eps_from)
        form.addRow("To", panel.eps_to)
        form.addRow("Budgets", panel.eps_count)
        form.addRow(run)
        return stacked(box)

    def plot(self, sweep) -> None:
        plot = self.panel.sweep_plot
        plot.clear()
        if sweep is None:
            return
        colors = current_theme().colors
        eps = sweep.eps * 255.0
        curves = [(sweep.true_prob, f"p({sweep.true_label}), the true class", colors["bar"], "o")]
        if sweep.target_prob is not None:
            curves.append((sweep.target_prob, f"p({sweep.target_label}), the target",
                           colors["loss"], "t"))
        curves.append((sweep.top1_prob, "p(top-1 at that budget)", colors["bar_top"], "s"))
        for values, name, color, symbol in curves:
            curve = plot.plot(eps, values, pen=pg.mkPen(color, width=current_theme().pen_width(2)),
                              symbol=symbol, symbolSize=current_theme().marker_size(10),
                              symbolBrush=color, symbolPen=None, name=name)
            curve.sigPointsClicked.connect(self._clicked)
        plot.setYRange(0, 1, padding=0.02)
        style_plot(plot)

    def _clicked(self, _curve, points, *_args) -> None:
        if len(points):
            self.panel.show_sweep_point(int(points[0].index()))

    @staticmethod
    def title(sweep, index: int) -> str:
        return (f"ε = {sweep.eps[index] * 255:.1f}/255 → {sweep.top1[index]} "
                f"({sweep.top1_prob[index]:.1%})")
