"""Light / dark palettes and the presentation mode (large fonts for projectors).

:func:`apply_theme` sets Qt's palette and font and then tells everything that draws its
own text — pyqtgraph axes, text items and legends, the colour bar, the charts — through
:data:`theme_signals`; those widgets read :func:`current_theme` when they draw, so a
theme holds after any number of switches, on screen and in exports.  No widget sets
colours through a style sheet (a style sheet freezes the palette it was polished with).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

NORMAL_POINT_SIZE = 10
PRESENTATION_POINT_SIZE = 16


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


class _ThemeSignals(QObject):
    changed = Signal(object)  # Theme


theme_signals = _ThemeSignals()
_current = Theme()


def current_theme() -> Theme:
    return _current


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
    app.setStyle("Fusion")
    app.setPalette(_dark_palette() if dark else _light_palette(app))
    font = QFont(app.font())
    font.setPointSize(PRESENTATION_POINT_SIZE if presentation else NORMAL_POINT_SIZE)
    app.setFont(font)
    colors = plot_colors(dark)
    pg.setConfigOption("background", colors["background"])
    pg.setConfigOption("foreground", colors["foreground"])
    _current = Theme(dark, presentation)
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
        axis.setPen(colors["foreground"])
        axis.setTextPen(colors["foreground"])
        axis.setTickFont(font)
        axis.label.setFont(font)
        if axis.labelText:
            axis.setLabel(axis.labelText, units=axis.labelUnits, color=colors["foreground"])
    legend = plot_item.legend
    if legend is not None:
        legend.setLabelTextColor(colors["foreground"])
        legend.setLabelTextSize(f"{font.pointSizeF():g}pt")
        legend.setBrush(pg.mkBrush(colors["background"]))
        legend.setPen(pg.mkPen(colors["grid"]))
        for _sample, label in legend.items:
            label.setText(label.text, color=colors["foreground"], size=f"{font.pointSizeF():g}pt")


def style_all_plots(root) -> None:
    """:func:`style_plot` for every pyqtgraph view under ``root``."""
    for view in root.findChildren(pg.GraphicsView):
        style_plot(view)
