"""The Attribution tab's main view: the map over the image with its colour bar, and under
it the deletion / insertion curves that score how faithful the map is."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QPushButton,
    QSplitter,
)

from workbench.ui.theme import current_theme, pen_width, style_plot, theme_signals
from workbench.ui.widgets.forms import column, row
from workbench.ui.widgets.overlay_view import OverlayView


class MapPage(QSplitter):
    """``view`` (the map) above ``curves`` (faithfulness); ``score_button`` asks for them."""

    def __init__(self, parent=None):
        super().__init__(Qt.Orientation.Vertical, parent)
        self.view = OverlayView(title=" ")
        self.score_button = QPushButton("Score faithfulness")
        self.score_button.setToolTip("deletion / insertion curves (RISE, Petsiuk et al. 2018): "
                                     "how fast p(target) falls as the most attributed pixels "
                                     "are removed, and rises as they are added")
        self.score_label = QLabel("")
        self.score_label.setWordWrap(True)
        self.curves = pg.PlotWidget()
        self.curves.setMinimumHeight(90)
        self.curves.setMouseEnabled(x=False, y=False)
        self.curves.hideButtons()
        self.curves.setLabel("bottom", "fraction of pixels removed / inserted")
        self.curves.setLabel("left", "p(target)")
        self.curves.getAxis("left").enableAutoSIPrefix(False)
        self.curves.setYRange(0.0, 1.0, padding=0.08)  # room for the "1.0" tick
        self.score = None
        head = row(self.score_button)
        head.addWidget(self.score_label, 1)
        self.addWidget(self.view)
        self.addWidget(column(head, (self.curves, 1)))
        self.setStretchFactor(0, 4)
        self.setStretchFactor(1, 1)
        self.setChildrenCollapsible(False)
        theme_signals.changed.connect(self._on_theme)
        style_plot(self.curves)

    def _on_theme(self, _theme) -> None:
        self.curves.setMinimumHeight(max(90, int(7 * QFontMetrics(QApplication.font()).height())))
        self.show_score(self.score)

    def resizeEvent(self, event):  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_lower_pane()

    def _fit_lower_pane(self) -> None:
        """A splitter ignores a wrapped label's height for its width: reserve the score
        line's real height above the curves, so the curves are never pushed off the tab."""
        label = self.score_label
        text_height = label.heightForWidth(max(1, label.width())) if label.text() else 0
        head = max(self.score_button.sizeHint().height(), text_height)
        spacing = self.widget(1).layout().spacing() if self.widget(1).layout() else 6
        self.widget(1).setMinimumHeight(head + spacing + self.curves.minimumHeight())

    def clear_score(self) -> None:
        self.score = None
        self.score_label.setText("")
        self.curves.clear()

    def show_score(self, score) -> None:
        self.score = score
        self.curves.clear()
        if score is None:
            return
        self.score_label.setText(f"deletion AUC {score.deletion_auc:.3f} (lower is better) · "
                                 f"insertion AUC {score.insertion_auc:.3f} (higher is better)")
        self._fit_lower_pane()
        colors = current_theme().colors
        if self.curves.getPlotItem().legend is None:  # only once there are curves to name
            self.curves.addLegend(offset=(-5, 5))
        self.curves.plot(score.fractions, score.deletion,
                         pen=pg.mkPen(colors["loss"], width=pen_width(2)), name="deletion")
        self.curves.plot(score.fractions, score.insertion,
                         pen=pg.mkPen(colors["bar"], width=pen_width(2)), name="insertion")
        style_plot(self.curves)
