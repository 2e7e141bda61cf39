"""Rescale what pyqtgraph has already drawn when the presentation scale changes.

Everything is drawn at the current theme's scale (``pen_width(2)``, ``marker_size(5)``,
text items in the application font); when the scale changes, :func:`rescale_drawn` —
called by :func:`workbench.ui.theme.apply_theme` before the new theme takes effect —
multiplies the line widths, marker sizes, arrow heads and text-item fonts of every item
in every pyqtgraph scene by ``new / old``.  So a curve a panel drew once and never redraws
follows presentation mode like one it redraws on every theme change, after any number of
switches; what a panel draws afterwards it draws at the new scale through the helpers.
Axes and legends are styled absolutely by :func:`workbench.ui.theme.style_plot`.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QApplication

DIGITS = 3  # widths and sizes round to this, so switching back gives the same numbers


def _scaled(value: float, ratio: float) -> float:
    return round(float(value) * ratio, DIGITS)


def scaled_pen(pen, ratio: float):
    """A copy of ``pen`` ``ratio`` times as wide (``None`` and non-pens unchanged)."""
    if not isinstance(pen, QPen):
        return pen
    pen = QPen(pen)
    pen.setWidthF(_scaled(pen.widthF() or 1.0, ratio))  # width 0: a one-pixel line
    return pen


def _data_item(item: pg.PlotDataItem, ratio: float) -> None:
    opts = item.opts
    for key, setter in (("pen", item.setPen), ("shadowPen", item.setShadowPen),
                        ("symbolPen", item.setSymbolPen)):
        if isinstance(opts.get(key), QPen):
            setter(scaled_pen(opts[key], ratio))
    size = opts.get("symbolSize")
    if isinstance(size, (int, float)):
        item.setSymbolSize(_scaled(size, ratio))


def _scatter(item: pg.ScatterPlotItem, ratio: float) -> None:
    if isinstance(item.opts.get("pen"), QPen):
        item.setPen(scaled_pen(item.opts["pen"], ratio), update=False)
    sizes = item.data["size"]
    if len(sizes):
        explicit = sizes > 0  # −1: the item's default size
        sizes[explicit] = (sizes[explicit] * ratio).round(DIGITS)
    item.setSize(_scaled(item.opts["size"], ratio))


def _bars(item: pg.BarGraphItem, ratio: float) -> None:
    changes = {}
    if isinstance(item.opts.get("pen"), QPen):
        changes["pen"] = scaled_pen(item.opts["pen"], ratio)
    if item.opts.get("pens") is not None:
        changes["pens"] = [scaled_pen(pen, ratio) for pen in item.opts["pens"]]
    if changes:
        item.setOpts(**changes)


def _line(item: pg.InfiniteLine, ratio: float) -> None:
    hover = scaled_pen(item.hoverPen, ratio)
    item.setPen(scaled_pen(item.pen, ratio))
    item.setHoverPen(hover)


def _text(item: pg.TextItem, ratio: float) -> None:
    font = item.textItem.font()
    font.setPointSizeF(_scaled(font.pointSizeF(), ratio))
    item.setFont(font)


def _arrow(item: pg.ArrowItem, ratio: float) -> None:
    opts = item.opts
    item.setStyle(headLen=_scaled(opts["headLen"], ratio),
                  pen=scaled_pen(pg.mkPen(opts["pen"]), ratio))


def rescale_item(item, ratio: float) -> None:
    """One item's widths, sizes and fonts × ``ratio`` (items a PlotDataItem owns follow
    their owner)."""
    owner = item.parentItem()
    if isinstance(item, pg.PlotDataItem):
        _data_item(item, ratio)
    elif isinstance(owner, pg.PlotDataItem):
        return
    elif isinstance(item, pg.PlotCurveItem):
        item.setPen(scaled_pen(item.opts["pen"], ratio))
    elif isinstance(item, pg.ScatterPlotItem):
        _scatter(item, ratio)
    elif isinstance(item, pg.BarGraphItem):
        _bars(item, ratio)
    elif isinstance(item, pg.InfiniteLine):
        _line(item, ratio)
    elif isinstance(item, pg.TextItem):
        _text(item, ratio)
    elif isinstance(item, pg.ArrowItem):
        _arrow(item, ratio)


def scenes():
    """Every pyqtgraph scene of the application's widgets, once each."""
    found = {}
    app = QApplication.instance()
    for top in app.topLevelWidgets() if app is not None else ():
        views = top.findChildren(pg.GraphicsView)
        if isinstance(top, pg.GraphicsView):
            views.append(top)
        for view in views:
            scene = view.scene()
            if scene is not None:
                found[id(scene)] = scene
    return list(found.values())


def rescale_drawn(ratio: float) -> None:
    """Every drawn item's line widths, marker sizes and text fonts × ``ratio``."""
    if ratio == 1.0:
        return
    for scene in scenes():
        for item in scene.items():
            try:
                rescale_item(item, ratio)
            except RuntimeError:  # an item whose C++ side is already gone
                continue
