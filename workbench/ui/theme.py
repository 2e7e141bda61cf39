"""Light / dark palettes and the presentation mode (large fonts for projectors).

:func:`apply_theme` sets Qt's palette and font and then tells everything that draws its
own text — pyqtgraph axes, text items and legends, the colour bar, the charts — through
:data:`theme_signals`; those widgets read :func:`current_theme` when they draw, so a
theme holds after any number of switches, on screen and in exports.

Presentation mode draws everything :attr:`Theme.scale` times larger: the fonts, and every
line width, marker and swatch drawn with :func:`pen_width`, :func:`marker_size` and
:func:`font_px`; a switch rescales what is already drawn (:mod:`workbench.ui.scaling`).
No widget sets colours through a style sheet (a style sheet freezes the palette it was
polished with).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import QApplication

NORMAL_POINT_SIZE = 10
PRESENTATION_POINT_SIZE = 16
LEGEND_SAMPLE_PX = 20  # pyqtgraph's ItemSample


@dataclass(frozen=True)
class Theme:
    dark: bool = False
    presentation: bool = False

    @property
    def colors(self) -> dict:
        return plot_colors(self.dark)

    @property
    def point_size(self) -> int:
        return PRESENTATION_POINT_SIZE if self.presentation else NORMAL_POINT_SIZE

    @property
    def scale(self) -> float:
        """How much larger everything is drawn: fonts, line widths, markers, swatches
        (16 / 10 in presentation mode, 1 otherwise)."""
        return self.point_size / NORMAL_POINT_SIZE

    def pen_width(self, base: float = 1.0) -> float:
        """A line width (curves, bar outlines, cursors) given at the normal size."""
        return round(base * self.scale, 3)

    def marker_size(self, base: float) -> float:
        """A scatter point's or a symbol's diameter in pixels, given at the normal size."""
        return round(base * self.scale, 3)

    def font_px(self, base: float) -> int:
        """A length in pixels tied to text (a swatch, a tick), given at the normal size."""
        return max(1, round(base * self.scale))


class _ThemeSignals(QObject):
    changed = Signal(object)  # Theme


theme_signals = _ThemeSignals()
_current = Theme()


def current_theme() -> Theme:
    return _current


def pen_width(base: float = 1.0) -> float:
    """:meth:`Theme.pen_width` of the current theme: draw every line with it, so that
    presentation mode thickens it (and a theme change rescales it, :mod:`scaling`)."""
    return _current.pen_width(base)


def marker_size(base: float) -> float:
    """:meth:`Theme.marker_size` of the current theme."""
    return _current.marker_size(base)


def font_px(base: float) -> int:
    """:meth:`Theme.font_px` of the current theme."""
    return _current.font_px(base)


def _dark_palette() -> QPalette:
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#2b2d31",
        QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1f22",
        QPalette.ColorRole.AlternateBase: "#2b2d31",
        QPalette.ColorRole.ToolTipBase: "#3c3f45",
        QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#35373c",
        QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.BrightText: "#ff6b6b",
        QPalette.ColorRole.Highlight: "#2f6bc6",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.PlaceholderText: "#a0a3a9",
        QPalette.ColorRole.Link: "#8ab4f8",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    disabled = QPalette.ColorGroup.Disabled
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        palette.setColor(disabled, role, QColor("#7d8086"))
    return palette


def _light_palette(app: QApplication) -> QPalette:
    palette = app.style().standardPalette()
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#2a6fc9"))  # white text ≥ 4.5 : 1
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor("#6b6b6b"))
    return palette


def plot_colors(dark: bool) -> dict:
    """Colours pyqtgraph views use: background, text, bars, and text on bars; the signed
    colours (gain / loss) keep 4.5 : 1 against the background."""
    if dark:
        return {"background": "#1e1f22", "foreground": "#d8d8d8", "bar": "#5b9bf0",
                "bar_top": "#f0a05b", "on_bar": "#111111", "gain": "#5fd07a",
                "loss": "#ff7b7b", "grid": "#3a3c42", "outline": "#d8d8d8"}
    return {"background": "#ffffff", "foreground": "#303030", "bar": "#3d7bd9",
            "bar_top": "#e07b20", "on_bar": "#111111", "gain": "#1e7a34", "loss": "#c0262d",
            "grid": "#dddddd", "outline": "#303030"}


def message_colors(dark: bool) -> dict:
    """Text colours of status messages (errors, warnings) readable on the window."""
    return {"error": QColor("#ff8080" if dark else "#b3261e"),
            "warning": QColor("#f0c060" if dark else "#8a5a00")}


def apply_theme(app: QApplication, dark: bool, presentation: bool) -> Theme:
    """Set palette and font for the whole application and tell every themed widget."""
    global _current
    theme = Theme(dark, presentation)
    if theme.scale != _current.scale:  # what is drawn already, drawn at the old scale
        from workbench.ui.scaling import rescale_drawn

        rescale_drawn(theme.scale / _current.scale)
    _current = theme  # before the font: widgets read the new theme when it reaches them
    app.setStyle("Fusion")
    app.setPalette(_dark_palette() if dark else _light_palette(app))
    font = QFont(app.font())
    font.setPointSize(PRESENTATION_POINT_SIZE if presentation else NORMAL_POINT_SIZE)
    app.setFont(font)
    colors = plot_colors(dark)
    pg.setConfigOption("background", colors["background"])
    pg.setConfigOption("foreground", colors["foreground"])
    theme_signals.changed.emit(_current)
    return _current


def style_plot(widget, theme: Theme | None = None) -> None:
    """Re-colour an existing pyqtgraph widget (background, axes, labels, legend)."""
    theme = theme or _current
    colors = theme.colors
    widget.setBackground(colors["background"])
    plot_item = getattr(widget, "getPlotItem", lambda: None)()
    if plot_item is None:
        return
    font = QApplication.font()
    for name in ("left", "bottom", "right", "top"):
        axis = plot_item.getAxis(name)
        axis.setPen(pg.mkPen(colors["foreground"], width=theme.pen_width(1)))
        axis.setTextPen(colors["foreground"])
        axis.setStyle(tickLength=-theme.font_px(5))
        axis.setTickFont(font)
        axis.label.setFont(font)
        if axis.labelText:
            axis.setLabel(axis.labelText, units=axis.labelUnits, color=colors["foreground"])
            if name in ("bottom", "top"):  # pyqtgraph lets a large label overhang the edge
                axis.setHeight(int(QFontMetrics(font).height() * 1.2
                                   + axis.label.boundingRect().height()))
    legend = plot_item.legend
    if legend is not None:
        legend.setLabelTextColor(colors["foreground"])
        legend.setLabelTextSize(f"{font.pointSizeF():g}pt")
        legend.setBrush(pg.mkBrush(colors["background"]))
        legend.setPen(pg.mkPen(colors["grid"]))
        for sample, label in legend.items:
            label.setText(label.text, color=colors["foreground"], size=f"{font.pointSizeF():g}pt")
            scale_sample(sample, theme.scale)


def scale_sample(sample, scale: float) -> None:
    """A legend's swatch (pyqtgraph draws it in a fixed 20 × 20 box) at ``scale``."""
    side = round(LEGEND_SAMPLE_PX * scale)
    sample.setScale(scale)
    sample.setFixedWidth(side)
    sample.setFixedHeight(side)


def style_all_plots(root) -> None:
    """:func:`style_plot` for every pyqtgraph view under ``root``."""
    for view in root.findChildren(pg.GraphicsView):
        style_plot(view)
