"""The timeline: the chosen classes' probabilities over the video, a cursor at the current
frame that can be dragged, a click to seek, and the strip of per-frame top-1 labels."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication

from workbench.io.palette import categorical
from workbench.ui.theme import current_theme, marker_size, pen_width, style_plot, theme_signals

STRIP_Y = 1.06


class Timeline(pg.PlotWidget):
    """Emits ``seek(seconds)`` when the cursor is dragged or the plot is clicked."""

    seek = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumHeight(150)
        self.setLabel("bottom", "time (s)")
        self.setLabel("left", "probability")
        self.getAxis("left").enableAutoSIPrefix(False)
        self.getAxis("bottom").enableAutoSIPrefix(False)
        self.setYRange(0.0, STRIP_Y + 0.06, padding=0)
        self.setMouseEnabled(x=True, y=False)
        self.hideButtons()
        self.cursor = pg.InfiniteLine(angle=90, movable=True)
        self.cursor.setZValue(20)
        self.cursor.sigDragged.connect(lambda line: self.seek.emit(float(line.value())))
        self.addItem(self.cursor)
        self.curves: list = []
        self.strip: list = []
        self.drops = None  # the temporal-occlusion curve
        self.entries: list[tuple[int, str, str, None]] = []
        self._data = None
        self.scene().sigMouseClicked.connect(self._clicked)
        view = self.getViewBox()  # which labels fit depends on the seconds per pixel
        view.sigResized.connect(self._redraw_strip)
        view.sigXRangeChanged.connect(self._redraw_strip)
        theme_signals.changed.connect(self._on_theme)
        self._on_theme(None)

    def _on_theme(self, _theme) -> None:
        if self.__dict__.get("plotItem") is None or self.plotItem.vb is None:
            return
        style_plot(self)
        self.cursor.setPen(pg.mkPen(current_theme().colors["foreground"], width=pen_width(2),
                                    style=pg.QtCore.Qt.PenStyle.DashLine))
        if self._data is not None:
            self.plot_probabilities(*self._data)

    def plot_probabilities(self, times, probs, classes, labels) -> list:
        """Lines for ``classes`` (indices into the probabilities' columns) and the top-1
        strip; NaN rows (frames not done yet) leave gaps.  Returns the legend entries."""
        self._data = (times, probs, classes, labels)
        for item in self.curves:
            self.removeItem(item)
        self.curves, self.entries = [], []
        colours = categorical(len(classes))
        for colour, index in zip(colours, classes, strict=True):
            values = probs[:, index]
            curve = self.plot(times, values, pen=pg.mkPen(colour, width=pen_width(2)),
                              connect="finite")
            self.curves.append(curve)
            self.entries.append((int(index), labels[int(index)], colour, None))
        if len(times):
            self.setXRange(float(times[0]), float(times[-1]) + 1e-6, padding=0.01)
        self._redraw_strip()
        return self.entries

    def plot_drops(self, times, drops, label: str) -> tuple | None:
        """A dashed curve of how much ``label``'s probability drops when the frames around
        each time are hidden (``None`` times: remove it).  Returns its legend entry."""
        if self.drops is not None:
            self.removeItem(self.drops)
            self.drops = None
        if times is None:
            return None
        colour = current_theme().colors["foreground"]
        pen = pg.mkPen(colour, width=pen_width(2), style=pg.QtCore.Qt.PenStyle.DashLine)
        self.drops = self.plot(times, drops, pen=pen, symbol="o", symbolSize=marker_size(5),
                               symbolBrush=colour, symbolPen=None, connect="finite")
        return (-1, f"drop when hidden: {label}", colour, None)

    def _redraw_strip(self, *_args) -> None:
        for item in self.strip:
            self.removeItem(item)
        self.strip = []
        if self._data is not None:
            times, probs, _classes, labels = self._data
            self._draw_strip(times, probs, labels)

    def _draw_strip(self, times, probs, labels) -> None:
        if not len(times):
            return
        done = np.isfinite(probs[:, 0])
        if not done.any():
            return
        top1 = np.where(done, np.nan_to_num(probs, nan=-1).argmax(axis=1), -1)
        colour = current_theme().colors["foreground"]
        metrics = QFontMetrics(QApplication.font())
        seconds_per_pixel = max(self.getViewBox().viewPixelSize()[0], 1e-9)
        right_edge = self.getViewBox().viewRange()[0][1]
        free_from = -np.inf  # labels never overlap: one is written only where it fits
        start = 0
        for i in range(1, len(top1) + 1):
            if i == len(top1) or top1[i] != top1[start]:
                name = labels[int(top1[start])] if top1[start] >= 0 else ""
                width = (metrics.horizontalAdvance(name) + 8) * seconds_per_pixel
                if name and free_from <= times[start] <= right_edge - width:
                    text = pg.TextItem(name, color=colour, anchor=(0, 0.5))
                    text.setFont(QApplication.font())
                    text.setPos(float(times[start]), STRIP_Y)
                    text.setToolTip(name)
                    self.addItem(text)
                    self.strip.append(text)
                    free_from = times[start] + width
                start = i

    def set_time(self, seconds: float) -> None:
        self.cursor.setValue(seconds)

    def _clicked(self, event) -> None:
        if event.button() != pg.QtCore.Qt.MouseButton.LeftButton:
            return
        point = self.getViewBox().mapSceneToView(event.scenePos())
        self.seek.emit(float(point.x()))
