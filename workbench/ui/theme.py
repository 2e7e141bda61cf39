"""Light / dark palettes and the presentation mode (large fonts for projectors)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

NORMAL_POINT_SIZE = 10
PRESENTATION_POINT_SIZE = 17


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
        QPalette.ColorRole.BrightText: "#ff5555",
        QPalette.ColorRole.Highlight: "#3d7bd9",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.PlaceholderText: "#8a8d93",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    disabled = QPalette.ColorGroup.Disabled
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        palette.setColor(disabled, role, QColor("#6d7076"))
    return palette


def plot_colors(dark: bool) -> dict:
    """Colours pyqtgraph views use for background, text and bars."""
    if dark:
        return {"background": "#1e1f22", "foreground": "#d8d8d8", "bar": "#5b9bf0",
                "bar_top": "#f0a05b"}
    return {"background": "#ffffff", "foreground": "#303030", "bar": "#3d7bd9",
            "bar_top": "#e07b20"}


def apply_theme(app: QApplication, dark: bool, presentation: bool) -> None:
    app.setStyle("Fusion")
    app.setPalette(_dark_palette() if dark else app.style().standardPalette())
    font = QFont(app.font())
    font.setPointSize(PRESENTATION_POINT_SIZE if presentation else NORMAL_POINT_SIZE)
    app.setFont(font)
    colors = plot_colors(dark)
    pg.setConfigOption("background", colors["background"])
    pg.setConfigOption("foreground", colors["foreground"])


def style_plot(widget, dark: bool) -> None:
    """Re-colour an existing pyqtgraph widget (background, axes, labels) for the theme."""
    colors = plot_colors(dark)
    widget.setBackground(colors["background"])
    plot_item = getattr(widget, "getPlotItem", lambda: None)()
    if plot_item is None:
        return
    font = QApplication.font()
    for name in ("left", "bottom"):
        axis = plot_item.getAxis(name)
        axis.setPen(colors["foreground"])
        axis.setTextPen(colors["foreground"])
        axis.setTickFont(font)
        axis.label.setFont(font)
