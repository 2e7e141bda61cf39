"""A pyqtgraph image view: aspect-locked, y down, with a live overlay layer for maps."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.ui.widgets.colorbar import ColorBar


def to_display(image: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1] → uint8 for ``ImageItem`` (no colour scaling surprises)."""
    if image.dtype == np.uint8:
        return image
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


class ImageView(QWidget):
    """Shows one RGB image with a caption; ``overlay`` is a second ``ImageItem`` for maps;
    ``colorbar`` (hidden until given a scale) sits beside the image."""

    def __init__(self, parent=None, title: str = "", compact_bar: bool = False):
        super().__init__(parent)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setMinimumSize(64, 64)
        self.view = self.canvas.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.view.setDefaultPadding(0.0)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.overlay.setZValue(10)
        self.view.addItem(self.image_item)
        self.view.addItem(self.overlay)
        self.title = QLabel(title)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)  # a long caption takes two lines in a narrow column
        self.title.setVisible(bool(title))
        self.colorbar = ColorBar(compact=compact_bar)
        self.colorbar.setVisible(False)
        row = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.canvas, 1)
        row.addWidget(self.colorbar)
        self._row = row
        self.warning = QLabel("")
        self.warning.setObjectName("mapWarning")
        self.warning.setWordWrap(True)
        self.warning.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row, 1)
        layout.addWidget(self.warning)
        layout.addWidget(self.title)
        self.image: np.ndarray | None = None

    def set_image(self, image: np.ndarray | None) -> None:
        self.image = image
        if image is None:
            self.image_item.clear()
            return
        self.image_item.setImage(to_display(image), autoLevels=False, levels=(0, 255))
        self.view.autoRange(padding=0.0)

    def resizeEvent(self, event):  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._orient_bar()

    def _orient_bar(self) -> None:
        """Beside a view wider than tall the bar stands upright; under a narrow one it lies
        flat, so the picture keeps the width it needs."""
        flat = self.width() < 1.1 * self.height()
        self._row.setDirection(QBoxLayout.Direction.TopToBottom if flat else
                               QBoxLayout.Direction.LeftToRight)
        self.colorbar.set_horizontal(flat)

    def set_scale(self, scale, threshold: float = 0.0) -> None:
        """Show (or, with ``None``, hide) the colour bar for what the view draws."""
        self.colorbar.set_scale(scale, threshold)
        self.colorbar.setVisible(scale is not None)

    def set_title(self, text: str) -> None:
        self.title.setText(text)
        self.title.setToolTip(text)
        self.title.setVisible(bool(text))

    def setBackground(self, color) -> None:  # noqa: N802 - pyqtgraph's spelling
        self.canvas.setBackground(color)
