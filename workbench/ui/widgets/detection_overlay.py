"""Detections drawn over an :class:`~workbench.ui.widgets.image_view.ImageView` that shows
the model input: one box per detection with its label and score, soft masks (Mask R-CNN)
and keypoints, all in *model-input pixel coordinates* (the view's data coordinates), in the
class's categorical colour.  A click inside a box picks it (the smallest box under the
pointer); a click anywhere reports the pixel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QApplication, QGraphicsRectItem

from workbench.io.palette import hex_to_rgb
from workbench.ui.theme import marker_size, pen_width, theme_signals

MASK_ALPHA = 110  # a mask's opacity (0…255); the picked one is drawn at twice it
MASK_LEVEL = 0.5  # a soft mask's pixel is in the object at or above this


@dataclass
class DrawnDetection:
    """What the overlay draws for one detection (``box`` xyxy in model-input pixels)."""

    box: tuple[float, float, float, float]
    text: str
    color: str  # "#rrggbb"
    mask: np.ndarray | None = None  # (h, w) soft mask at the input size
    keypoints: np.ndarray | None = None  # (P, 3): x, y, visibility


def text_color(fill: str) -> str:
    """Black or white, whichever reads better on ``fill``."""
    from workbench.io.colormaps import contrast_ratio

    rgb = np.array(hex_to_rgb(fill), np.float64)
    black = contrast_ratio(rgb, np.zeros(3))
    white = contrast_ratio(rgb, np.full(3, 255.0))
    return "#000000" if black >= white else "#ffffff"


def overlaps(a: QRectF, others) -> bool:
    return any(a.intersects(b) for b in others)


class DetectionOverlay(QObject):
    """Draws :class:`DrawnDetection` items on ``image_view``; emits ``box_clicked(index)``
    and ``pixel_clicked(x, y)`` (model-input pixels)."""

    box_clicked = Signal(int)
    pixel_clicked = Signal(float, float)

    def __init__(self, image_view):
        super().__init__(image_view)  # dies with its view
        self.image_view = image_view
        self.view = image_view.view
        self.items: list[DrawnDetection] = []
        self.boxes: list[QGraphicsRectItem] = []
        self.labels: list[pg.TextItem] = []
        self.picked: int | None = None
        self.masks = pg.ImageItem(axisOrder="row-major")
        self.masks.setZValue(15)
        self.view.addItem(self.masks)
        self.points = pg.ScatterPlotItem()
        self.points.setZValue(25)
        self.view.addItem(self.points)
        image_view.canvas.scene().sigMouseClicked.connect(self._on_click)
        self.view.sigResized.connect(self.place_labels)
        self.view.sigRangeChanged.connect(self.place_labels)
        theme_signals.changed.connect(self._on_theme)

    def _on_theme(self, _theme) -> None:
        """Pens and label fonts at the new presentation scale."""
        self.redraw()

    # ----------------------------------------------------------------- drawing
    def set_detections(self, items: list[DrawnDetection], picked: int | None = None) -> None:
        self.items, self.picked = list(items), picked
        self.redraw()

    def pick(self, index: int | None) -> None:
        """Highlight detection ``index`` (``None``: none)."""
        self.picked = index
        self.redraw()

    def clear(self) -> None:
        self.set_detections([])

    def redraw(self) -> None:
        for item in (*self.boxes, *self.labels):
            self.view.removeItem(item)
        self.boxes = [self._box(i, d) for i, d in enumerate(self.items)]
        self.labels = [self._label(i, d) for i, d in enumerate(self.items)]
        for item in (*self.boxes, *self.labels):
            self.view.addItem(item)
        self._draw_masks()
        self._draw_points()
        self.place_labels()

    def _box(self, index: int, det: DrawnDetection) -> QGraphicsRectItem:
        x0, y0, x1, y1 = det.box
        item = QGraphicsRectItem(QRectF(x0, y0, x1 - x0, y1 - y0))
        picked = index == self.picked
        pen = pg.mkPen(det.color, width=pen_width(4 if picked else 2))
        pen.setCosmetic(True)  # its width in screen pixels, whatever the zoom
        if self.picked is not None and not picked:
            pen.setStyle(Qt.PenStyle.DashLine)
        item.setPen(pen)
        halo = QGraphicsRectItem(item.rect(), item)  # a dark rim: any colour on any picture
        rim = pg.mkPen((0, 0, 0, 150), width=pen_width(4 if picked else 2) + pen_width(2))
        rim.setCosmetic(True)
        halo.setPen(rim)
        halo.setFlag(QGraphicsRectItem.GraphicsItemFlag.ItemStacksBehindParent)
        area = max(1.0, (x1 - x0) * (y1 - y0))
        item.setZValue(20 + (1 if picked else 0) + 1.0 / area)  # small boxes over large
        return item

    def _label(self, index: int, det: DrawnDetection) -> pg.TextItem:
        item = pg.TextItem(det.text, color=text_color(det.color), fill=QColor(det.color),
                           anchor=(0, 1))
        font = QFont(QApplication.font())
        font.setBold(index == self.picked)
        item.setFont(font)
        item.setZValue(30 + (1 if index == self.picked else 0))
        return item

    def _draw_masks(self) -> None:
        masks = [(i, d) for i, d in enumerate(self.items) if d.mask is not None]
        if not masks:
            self.masks.clear()
            return
        h, w = masks[0][1].mask.shape
        rgba = np.zeros((h, w, 4), np.uint8)
        for index, det in reversed(masks):  # the best detection drawn last, on top
            inside = det.mask >= MASK_LEVEL
            rgba[inside, :3] = hex_to_rgb(det.color)
            rgba[inside, 3] = min(255, MASK_ALPHA * (2 if index == self.picked else 1))
        self.masks.setImage(rgba, autoLevels=False, levels=(0, 255))
        self.masks.setRect(0, 0, w, h)

    def _draw_points(self) -> None:
        spots = []
        for det in self.items:
            if det.keypoints is None:
                continue
            for x, y, visible in np.asarray(det.keypoints, np.float64).reshape(-1, 3):
                if visible > 0:
                    spots.append({"pos": (x, y), "brush": pg.mkBrush(det.color),
                                  "pen": pg.mkPen("#ffffff", width=pen_width(1))})
        self.points.setData(spots, size=marker_size(7))

    # ----------------------------------------------------------- label layout
    def place_labels(self, *_args) -> None:
        """Each label just above its box, or inside it, or under it: the first place that
        stays in the picture and clear of the labels of better detections."""
        image = self.image_view.image
        if not self.labels or image is None:
            return
        px, py = self.view.viewPixelSize()
        if not np.isfinite(px) or px <= 0 or py <= 0:
            return
        height, width = image.shape[:2]
        placed: list[QRectF] = []
        for det, label in zip(self.items, self.labels, strict=True):
            size = label.boundingRect()
            w, h = size.width() * px, size.height() * py
            x = max(0.0, min(det.box[0], width - w))
            rect = self._spot(det.box, x, w, h, height, placed)
            placed.append(rect)
            label.setPos(rect.left(), rect.bottom())

    @staticmethod
    def _spot(box, x, w, h, height, placed) -> QRectF:
        x0, y0, x1, y1 = box
        tops = [y0 - h, y0, y1, y1 - h]  # above, inside at the top, under, inside at the foot
        inside = [QRectF(x, t, w, h) for t in tops if t >= 0 and t + h <= height]
        for rect in inside:
            if not overlaps(rect, placed):
                return rect
        return inside[0] if inside else QRectF(x, max(0.0, y0), w, h)

    # ---------------------------------------------------------------- clicks
    def _on_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.image_view.image is None:
            return
        point = self.view.mapSceneToView(event.scenePos())
        x, y = point.x(), point.y()
        height, width = self.image_view.image.shape[:2]
        if not (0 <= x < width and 0 <= y < height):
            return
        hit = self.box_at(x, y)
        if hit is not None:
            self.box_clicked.emit(hit)
        self.pixel_clicked.emit(x, y)

    def box_at(self, x: float, y: float) -> int | None:
        """The smallest box holding (x, y), or ``None``."""
        inside = [((b[2] - b[0]) * (b[3] - b[1]), i) for i, d in enumerate(self.items)
                  for b in [d.box] if b[0] <= x <= b[2] and b[1] <= y <= b[3]]
        return min(inside)[1] if inside else None

    def box_rects(self) -> list[tuple[float, float, float, float]]:
        """Each drawn box as xyxy in the view's data coordinates (model-input pixels)."""
        rects = []
        for item in self.boxes:
            r = item.mapRectToItem(self.view.childGroup, item.rect())
            rects.append((r.left(), r.top(), r.right(), r.bottom()))
        return rects

    def view_to_widget(self, x: float, y: float):
        """Canvas-widget coordinates of model-input pixel (x, y) (tests click there)."""
        from PySide6.QtCore import QPointF

        scene = self.view.mapViewToScene(QPointF(x, y))
        return self.image_view.canvas.mapFromScene(scene)


def show_target_box(image_view, state) -> None:
    """Outline the detection the tabs explain (``state.target``) on ``image_view`` (a view
    in model-input pixels: a map over the picture), or take the outline away."""
    from workbench.io.palette import categorical

    overlay = getattr(image_view, "target_overlay", None)
    target = state.target if state.is_dense() else None
    if not hasattr(target, "box"):  # no target, or a region (its map shows it)
        if overlay is not None:
            overlay.clear()
        return
    if overlay is None:
        overlay = image_view.target_overlay = DetectionOverlay(image_view)
    colour = categorical(state.model.num_classes)[target.label]
    overlay.set_detections([DrawnDetection(tuple(target.box), state.model.label(target.label),
                                           colour)], picked=0)
