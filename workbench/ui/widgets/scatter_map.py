"""A 2-D map of many points (100 000 and more) that stays smooth to pan and zoom.

Points are drawn as one ``ScatterPlotItem`` per colour group (a uniform brush
per item is far cheaper than a brush per point).  Hovering reports the nearest
point, a click selects one, Shift-drag draws a lasso, and extra markers (the
current image, an adversarial pair joined by an arrow) sit on top.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal

from workbench.io.palette import UNKNOWN, categorical
from workbench.ui.theme import current_theme, marker_size, pen_width, style_plot, theme_signals

CONTINUOUS_BINS = 16
POINT_SIZE = 5


def _continuous_colors(count: int) -> list[str]:
    from workbench.io.colormaps import lookup_table

    table = lookup_table("viridis", count)
    return ["#" + "".join(f"{int(v):02x}" for v in row) for row in table]


class ScatterMap(pg.PlotWidget):
    """Emits ``point_clicked(index)``, ``point_hovered(index or -1)``, ``lasso(indices)``."""

    point_clicked = Signal(int)
    point_hovered = Signal(int)
    lasso_selected = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAspectLocked(False)
        self.showGrid(x=False, y=False)
        self.getPlotItem().hideAxis("left")
        self.getPlotItem().hideAxis("bottom")
        self.coords = np.zeros((0, 2), np.float32)
        self.groups: list[pg.ScatterPlotItem] = []
        self.members: list[np.ndarray] = []  # the point indices drawn by each group
        self.entries: list[tuple[int, str, str, int]] = []  # for the Legend beside the map
        self.highlight = pg.ScatterPlotItem(size=marker_size(14),
                                            pen=pg.mkPen("#ff2020", width=pen_width(2)),
                                            brush=None)
        self.highlight.setZValue(20)
        self.marks = pg.ScatterPlotItem(size=marker_size(18), symbol="star",
                                        pen=pg.mkPen("k", width=pen_width(1)))
        self.marks.setZValue(30)
        self.lasso_line = pg.PlotCurveItem(pen=pg.mkPen("#ff8000", width=pen_width(2)))
        self.arrows: list = []
        for item in (self.highlight, self.marks, self.lasso_line):
            self.addItem(item)
        self._lasso: list[tuple[float, float]] | None = None
        self.scene().sigMouseMoved.connect(self._on_move)
        self.scene().sigMouseClicked.connect(self._on_click)
        theme_signals.changed.connect(self._on_theme)
        style_plot(self)

    def _on_theme(self, _theme) -> None:
        item = self.__dict__.get("plotItem")
        if item is None or item.vb is None:  # closed, not yet deleted
            return
        style_plot(self)
        self.marks.setPen(pg.mkPen(current_theme().colors["foreground"], width=pen_width(1)))

    # -------------------------------------------------------------- content
    def set_points(self, coords: np.ndarray, groups: np.ndarray, names: list[str],
                   continuous: bool = False) -> list[tuple[int, str, str, int]]:
        """``groups[i]`` indexes ``names`` (−1: unknown); ``continuous`` colours by bins.

        Returns the legend entries ``(group, name, colour, count)`` (also kept in
        ``entries``): classes get distinguishable colours, bins the viridis ramp."""
        for item in self.groups:
            self.removeItem(item)
        self.groups, self.members, self.entries = [], [], []
        self.coords = np.asarray(coords, np.float32)
        colors = _continuous_colors(len(names)) if continuous else list(categorical(len(names)))
        for index in [*range(len(names)), -1]:
            member = np.flatnonzero(groups == index)
            if member.size == 0:
                continue
            color = colors[index] if index >= 0 else UNKNOWN
            item = pg.ScatterPlotItem(self.coords[member, 0], self.coords[member, 1],
                                      size=marker_size(POINT_SIZE), pen=None,
                                      brush=pg.mkBrush(color))
            self.addItem(item)
            self.groups.append(item)
            self.members.append(member)
            self.entries.append((index, names[index] if index >= 0 else "unknown", color,
                                 int(member.size)))
        self.highlight.setData([], [])
        self.autoRange()
        return self.entries

    def view_aspect(self) -> float:
        """Height / width of the map as shown (exports keep it)."""
        box = self.getViewBox().sceneBoundingRect()
        return float(box.height() / box.width()) if box.width() > 0 else 0.75

    def update_coords(self, coords: np.ndarray) -> None:
        """Move every point (a projection being trained) without regrouping."""
        self.coords = np.asarray(coords, np.float32)
        for item, member in zip(self.groups, self.members, strict=True):
            item.setData(self.coords[member, 0], self.coords[member, 1])

    def select(self, indices) -> None:
        indices = np.atleast_1d(np.asarray(indices, int))
        self.highlight.setData(self.coords[indices, 0], self.coords[indices, 1])

    def set_marks(self, points: list[tuple[float, float, str]], arrows=()) -> None:
        """Stars at ``(x, y, colour)``; ``arrows`` join ``((x0, y0), (x1, y1))`` pairs."""
        self.marks.setData([p[0] for p in points], [p[1] for p in points],
                           brush=[pg.mkBrush(p[2]) for p in points])
        for item in self.arrows:
            self.removeItem(item)
        self.arrows = []
        for (x0, y0), (x1, y1) in arrows:
            line = pg.PlotCurveItem([x0, x1], [y0, y1],
                                    pen=pg.mkPen("#d03030", width=pen_width(2)))
            angle = float(np.degrees(np.arctan2(-(y1 - y0), x1 - x0))) + 180.0
            head = pg.ArrowItem(pos=(x1, y1), angle=angle, headLen=marker_size(16),
                                brush="#d03030")
            for item in (line, head):
                item.setZValue(25)
                self.addItem(item)
                self.arrows.append(item)

    # -------------------------------------------------------------- picking
    def nearest(self, x: float, y: float, radius_px: float = 8.0) -> int:
        """Index of the point nearest to view position (x, y), or −1 if none within reach."""
        if len(self.coords) == 0:
            return -1
        pixel = self.getViewBox().viewPixelSize()
        scaled = (self.coords - (x, y)) / np.maximum(pixel, 1e-12)
        distances = np.einsum("ij,ij->i", scaled, scaled)
        best = int(distances.argmin())
        return best if distances[best] <= radius_px**2 else -1

    def _view_point(self, scene_pos) -> QPointF:
        return self.getViewBox().mapSceneToView(scene_pos)

    def _on_move(self, scene_pos) -> None:
        point = self._view_point(scene_pos)
        if self._lasso is not None:
            self._lasso.append((point.x(), point.y()))
            xs, ys = zip(*self._lasso, strict=True)
            self.lasso_line.setData(list(xs), list(ys))
            return
        self.point_hovered.emit(self.nearest(point.x(), point.y()))

    def _on_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self._view_point(event.scenePos())
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._toggle_lasso(point)
            return
        index = self.nearest(point.x(), point.y())
        if index >= 0:
            self.select(index)
            self.point_clicked.emit(index)

    def _toggle_lasso(self, point) -> None:
        """Shift-click starts a lasso; the next Shift-click closes it."""
        if self._lasso is None:
            self._lasso = [(point.x(), point.y())]
            return
        polygon = np.array([*self._lasso, (point.x(), point.y())])
        self._lasso = None
        self.lasso_line.setData([], [])
        self.lasso_selected.emit(self.inside(polygon))

    def inside(self, polygon: np.ndarray) -> np.ndarray:
        """Indices of the points inside ``polygon`` ``(K, 2)`` in view coordinates."""
        from skimage.measure import points_in_poly

        if len(polygon) < 3 or len(self.coords) == 0:
            return np.zeros(0, int)
        return np.flatnonzero(points_in_poly(self.coords, polygon))
