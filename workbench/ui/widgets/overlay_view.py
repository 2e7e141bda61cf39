"""An image view with a heat-map overlay whose colour map, opacity, threshold and
scaling change instantly (display only; nothing is recomputed)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.io.colormaps import lookup_table
from workbench.io.overlay import display_values
from workbench.ui.widgets.image_view import ImageView


@dataclass
class OverlayStyle:
    colormap: str = "inferno"
    opacity: float = 0.5
    threshold: float = 0.0
    normalized: bool = True


def rgba_table(style: OverlayStyle) -> np.ndarray:
    """256 × 4 lookup table: the colour map, transparent below the threshold."""
    table = np.zeros((256, 4), dtype=np.uint8)
    table[:, :3] = lookup_table(style.colormap)
    table[:, 3] = np.where(np.linspace(0, 1, 256) >= style.threshold, 255, 0)
    return table


class OverlayView(ImageView):
    """``set_map`` stores a raw map; ``set_style`` only changes how it is drawn."""

    def __init__(self, parent=None, title: str = ""):
        super().__init__(parent, title)
        self.heat: np.ndarray | None = None
        self.overlay_style = OverlayStyle()

    def set_map(self, heat: np.ndarray | None) -> None:
        self.heat = heat
        self._redraw()

    def set_style(self, style: OverlayStyle) -> None:
        self.overlay_style = style
        self._redraw()

    def _redraw(self) -> None:
        if self.heat is None:
            self.overlay.clear()
            return
        values = display_values(self.heat, self.overlay_style.normalized)
        self.overlay.setImage(values.astype(np.float32), levels=(0.0, 1.0),
                              lut=rgba_table(self.overlay_style), autoLevels=False)
        self.overlay.setOpacity(self.overlay_style.opacity)
        if self.image is not None:
            h, w = self.image.shape[:2]
            self.overlay.setRect(0, 0, w, h)
