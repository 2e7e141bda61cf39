"""A paintable mask over the model's input: brush, eraser, rectangle, lasso, superpixel,
invert, clear, undo / redo.  The mask has the model-input resolution; True = hidden."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal

from workbench.ui.theme import pen_width
from workbench.ui.widgets.image_view import ImageView

TOOLS = ("brush", "eraser", "rectangle", "lasso", "superpixel")
MASK_COLOR = (230, 40, 40, 120)
UNDO_LIMIT = 50
LIVE_INTERVAL_MS = 80


def disk(mask: np.ndarray, x: float, y: float, radius: float, value: bool) -> None:
    """Set a filled disk of ``radius`` pixels centred at (x, y)."""
    h, w = mask.shape
    r = max(0.5, radius)
    top, bottom = max(0, int(y - r)), min(h, int(y + r) + 1)
    left, right = max(0, int(x - r)), min(w, int(x + r) + 1)
    if top >= bottom or left >= right:
        return
    yy, xx = np.ogrid[top:bottom, left:right]
    inside = (yy + 0.5 - y) ** 2 + (xx + 0.5 - x) ** 2 <= r * r
    mask[top:bottom, left:right][inside] = value


def segment(mask: np.ndarray, p0, p1, radius: float, value: bool) -> None:
    """Stamp disks along the segment p0 → p1 (a continuous brush stroke)."""
    steps = max(1, int(np.hypot(p1[0] - p0[0], p1[1] - p0[1]) / max(1.0, radius / 2)))
    for t in np.linspace(0.0, 1.0, steps + 1):
        disk(mask, p0[0] + t * (p1[0] - p0[0]), p0[1] + t * (p1[1] - p0[1]), radius, value)


def polygon(mask: np.ndarray, points, value: bool = True) -> None:
    from skimage.draw import polygon as fill_polygon

    if len(points) < 3:
        return
    xs, ys = zip(*points, strict=True)
    rr, cc = fill_polygon(np.array(ys), np.array(xs), shape=mask.shape)
    mask[rr, cc] = value


class _PaintItem(pg.ImageItem):
    """The mask layer; forwards left-button drags and clicks, and the wheel, to the canvas."""

    def __init__(self, canvas):
        super().__init__(axisOrder="row-major")
        self.canvas = canvas

    def mouseDragEvent(self, ev):  # noqa: N802 - pyqtgraph override
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        pos = (ev.pos().x(), ev.pos().y())
        if ev.isStart():  # pyqtgraph starts a drag after a few pixels: begin where pressed
            down = ev.buttonDownPos()
            self.canvas.begin((down.x(), down.y()))
            self.canvas.extend(pos)
        elif ev.isFinish():
            self.canvas.finish(pos)
        else:
            self.canvas.extend(pos)

    def mouseClickEvent(self, ev):  # noqa: N802 - pyqtgraph override
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.canvas.click((ev.pos().x(), ev.pos().y()))

    def wheelEvent(self, ev):  # noqa: N802 - Qt override
        self.canvas.brush_size = int(np.clip(self.canvas.brush_size
                                             + (2 if ev.delta() > 0 else -2), 1, 200))
        self.canvas.brush_size_changed.emit(self.canvas.brush_size)
        ev.accept()


class MaskCanvas(ImageView):
    """Emits ``stroke_moved`` while painting (throttled) and ``mask_edited`` after each edit."""

    stroke_moved = Signal()
    mask_edited = Signal()
    brush_size_changed = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent, title=" ")
        self.view.setMouseEnabled(x=False, y=False)
        self.view.removeItem(self.overlay)
        self.overlay = _PaintItem(self)
        self.overlay.setZValue(10)
        self.view.addItem(self.overlay)
        self.preview = pg.PlotCurveItem(pen=pg.mkPen((255, 220, 0), width=pen_width(2)))
        self.preview.setZValue(20)
        self.view.addItem(self.preview)
        self.tool = "brush"
        self.brush_size = 24
        self.mask = np.zeros((1, 1), bool)
        self.superpixel_labels: np.ndarray | None = None
        self._undo: list[np.ndarray] = []
        self._redo: list[np.ndarray] = []
        self._points: list[tuple[float, float]] = []
        self._live = QTimer(self, singleShot=True, interval=LIVE_INTERVAL_MS,
                            timeout=self.stroke_moved.emit)

    # ---------------------------------------------------------------- content
    def set_base(self, image: np.ndarray, keep_mask: bool = True) -> None:
        """Show ``image`` (the model input); the mask is kept if it has the same size."""
        self.set_image(image)
        shape = image.shape[:2]
        if not keep_mask or self.mask.shape != shape:
            self.mask = np.zeros(shape, bool)
            self._undo, self._redo = [], []
        self.superpixel_labels = None
        self._draw_mask()

    def set_mask(self, mask: np.ndarray, record: bool = True) -> None:
        if record:
            self._remember()
        self.mask = np.asarray(mask, bool).copy()
        self._draw_mask()
        self.mask_edited.emit()

    def _draw_mask(self) -> None:
        rgba = np.zeros((*self.mask.shape, 4), np.uint8)
        rgba[self.mask] = MASK_COLOR
        self.overlay.setImage(rgba, autoLevels=False, levels=(0, 255))

    # ---------------------------------------------------------------- history
    def _remember(self) -> None:
        self._undo.append(self.mask.copy())
        del self._undo[:-UNDO_LIMIT]
        self._redo.clear()

    def undo(self) -> None:
        if self._undo:
            self._redo.append(self.mask.copy())
            self.mask = self._undo.pop()
            self._draw_mask()
            self.mask_edited.emit()

    def redo(self) -> None:
        if self._redo:
            self._undo.append(self.mask.copy())
            self.mask = self._redo.pop()
            self._draw_mask()
            self.mask_edited.emit()

    def invert(self) -> None:
        self.set_mask(~self.mask)

    def clear(self) -> None:
        self.set_mask(np.zeros_like(self.mask))

    # ------------------------------------------------------------------ tools
    def begin(self, pos) -> None:
        self._remember()
        self._points = [pos]
        if self.tool in ("brush", "eraser"):
            disk(self.mask, *pos, self.brush_size / 2, self.tool == "brush")
            self._draw_mask()
            self._live.start()

    def extend(self, pos) -> None:
        if not self._points:
            return
        if self.tool in ("brush", "eraser"):
            segment(self.mask, self._points[-1], pos, self.brush_size / 2, self.tool == "brush")
            self._points.append(pos)
            self._draw_mask()
            if not self._live.isActive():
                self._live.start()
        elif self.tool == "rectangle":
            (x0, y0), (x1, y1) = self._points[0], pos
            self.preview.setData([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0])
        elif self.tool == "lasso":
            self._points.append(pos)
            xs, ys = zip(*self._points, strict=True)
            self.preview.setData(list(xs), list(ys))

    def finish(self, pos) -> None:
        if not self._points:
            return
        self.extend(pos)
        if self.tool == "rectangle":
            (x0, y0), (x1, y1) = self._points[0], pos
            self._fill_rect(x0, y0, x1, y1)
        elif self.tool == "lasso":
            polygon(self.mask, self._points)
        self._points = []
        self.preview.setData([], [])
        self._live.stop()
        self._draw_mask()
        self.mask_edited.emit()

    def _fill_rect(self, x0, y0, x1, y1) -> None:
        h, w = self.mask.shape
        top, bottom = sorted((int(np.clip(y0, 0, h)), int(np.clip(y1, 0, h))))
        left, right = sorted((int(np.clip(x0, 0, w)), int(np.clip(x1, 0, w))))
        self.mask[top:bottom, left:right] = True

    def click(self, pos) -> None:
        x, y = int(pos[0]), int(pos[1])
        h, w = self.mask.shape
        if not (0 <= x < w and 0 <= y < h):
            return
        if self.tool == "superpixel":
            if self.superpixel_labels is None:
                from workbench.core.occlusion.superpixels import superpixels

                self.superpixel_labels = superpixels(self.image)
            region = self.superpixel_labels == self.superpixel_labels[y, x]
            self._remember()
            self.mask[region] = not self.mask[y, x]
        elif self.tool in ("brush", "eraser"):
            self._remember()
            disk(self.mask, *pos, self.brush_size / 2, self.tool == "brush")
        else:
            return
        self._draw_mask()
        self.mask_edited.emit()

    def image_to_widget(self, x: float, y: float):
        """Widget coordinates of image pixel (x, y) (used by tests to paint)."""
        scene = self.overlay.mapToScene(QPointF(x, y))
        return self.canvas.mapFromScene(scene)
