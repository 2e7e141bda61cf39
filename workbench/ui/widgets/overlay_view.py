"""An image view with a heat-map overlay and its colour bar; colour map, opacity,
threshold and scaling change instantly (display only; nothing is recomputed)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.io.colormaps import lookup_table
from workbench.io.overlay import MIN_MAX, ColorScale, color_scale, display_values
from workbench.ui.widgets.image_view import ImageView


@dataclass
class OverlayStyle:
    colormap: str = "inferno"
    opacity: float = 0.5
    threshold: float = 0.0  # a position 0…1 on the colour bar
    scaling: str = MIN_MAX


def rgba_table(style: OverlayStyle) -> np.ndarray:
    """256 × 4 lookup table: the colour map, transparent below the threshold."""
    table = np.zeros((256, 4), dtype=np.uint8)
    table[:, :3] = lookup_table(style.colormap)
    table[:, 3] = np.where(np.linspace(0, 1, 256) >= style.threshold, 255, 0)
    return table


class OverlayView(ImageView):
    """``set_map`` stores a raw map (with its ``units``); ``set_style`` only changes how it
    is drawn.  ``rect`` places the map in image pixels (default: over the whole image)."""

    def __init__(self, parent=None, title: str = "", compact_bar: bool = False):
        super().__init__(parent, title, compact_bar)
        self.heat: np.ndarray | None = None
        self.units = "value"
        self.map_rect: tuple[float, float, float, float] | None = None
        self.overlay_style = OverlayStyle()
        self.scale: ColorScale | None = None
        self.limits: tuple[float, float] | None = None

    def set_map(self, heat: np.ndarray | None, units: str | None = None,
                rect: tuple[float, float, float, float] | None = None,
                limits: tuple[float, float] | None = None) -> None:
        """``limits`` fixes the colour range (shared by several maps)."""
        self.heat = heat
        if units is not None:
            self.units = units
        self.map_rect = rect
        self.limits = limits
        self._redraw()

    def set_style(self, style: OverlayStyle) -> None:
        self.overlay_style = style
        self._redraw()

    def _redraw(self) -> None:
        if self.heat is None:
            self.overlay.clear()
            self.scale = None
            self.set_scale(None)
            self.warning.setVisible(False)
            return
        style = self.overlay_style
        self.scale = color_scale(self.heat, style.colormap, self.units, style.scaling,
                                 self.limits)
        values = display_values(self.heat, self.scale)
        self.overlay.setImage(values, levels=(0.0, 1.0), lut=rgba_table(style),
                              autoLevels=False)
        self.overlay.setOpacity(style.opacity)
        self._place()
        self.set_scale(self.scale, style.threshold)
        self.warning.setText(f"⚠ {self.scale.warning()}: nothing to show" if self.scale.flat
                             else "")
        self.warning.setVisible(self.scale.flat)

    def _place(self) -> None:
        if self.map_rect is not None:
            self.overlay.setRect(*self.map_rect)
        elif self.image is not None:
            h, w = self.image.shape[:2]
            self.overlay.setRect(0, 0, w, h)
