"""A pyqtgraph image view: aspect-locked, y down, with a live overlay layer for maps."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg


def to_display(image: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1] → uint8 for ``ImageItem`` (no colour scaling surprises)."""
    if image.dtype == np.uint8:
        return image
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


class ImageView(pg.GraphicsLayoutWidget):
    """Shows one RGB image; ``overlay`` is a second ``ImageItem`` for heat maps."""

    def __init__(self, parent=None, title: str = ""):
        super().__init__(parent)
        self.setMinimumSize(160, 160)
        self.view = self.addViewBox(row=0, col=0, lockAspect=True, invertY=True,
                                    enableMenu=False)
        self.view.setDefaultPadding(0.0)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.overlay.setZValue(10)
        self.view.addItem(self.image_item)
        self.view.addItem(self.overlay)
        self.title = pg.LabelItem(title, justify="center")
        if title:
            self.addItem(self.title, row=1, col=0)
        self.image: np.ndarray | None = None

    def set_image(self, image: np.ndarray | None) -> None:
        self.image = image
        if image is None:
            self.image_item.clear()
            return
        self.image_item.setImage(to_display(image), autoLevels=False, levels=(0, 255))
        self.view.autoRange(padding=0.0)

    def set_title(self, text: str) -> None:
        self.title.setText(text, color=pg.getConfigOption("foreground"))
