"""Bar charts of class probabilities: top-k (:class:`TopKChart`) and top-k after an edit
with the unedited probability outlined (:class:`DeltaChart`).

Both follow the theme (colours and the application font, so presentation mode enlarges
them) and redraw on every theme change; the labels written after the bars always fit,
and the axis ticks are spaced by their pixel width so they never run together.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QApplication

from workbench.ui.theme import current_theme, pen_width, style_plot, theme_signals

NEUTRAL_DELTA = 0.0005  # changes below 0.05 % are "no change", not a red −0.0 %
LABEL_LIMIT = 28
TICK_STEPS = (1, 2, 5, 10, 20, 25, 50, 100)


def readable_on(color: str) -> str:
    """Black or white, whichever reads better on ``color`` (WCAG contrast)."""
    from workbench.io.colormaps import contrast_ratio

    rgb = QColor(color)
    fill = np.array([rgb.red(), rgb.green(), rgb.blue()])
    black = contrast_ratio(fill, np.array([17, 17, 17]))
    white = contrast_ratio(fill, np.array([255, 255, 255]))
    return "#111111" if black >= white else "#ffffff"


def short_label(label: str, limit: int = LABEL_LIMIT) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


class _BarChart(pg.PlotWidget):
    """Horizontal bars, best class on top; ``_draw`` adds the bars and their labels."""

    def __init__(self):
        super().__init__()
        self.setMinimumWidth(160)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setMenuEnabled(False)
        self.getViewBox().invertY(True)
        self.setLabel("bottom", "probability (%)")
        self.getAxis("bottom").enableAutoSIPrefix(False)
        self.setXRange(0, 100.0, padding=0.02)
        self._items: list = []
        self._outside: list = []  # (where the bar ends, its label written after it)
        self._min_right = 100.0
        self._rows = None
        theme_signals.changed.connect(self._on_theme)
        style_plot(self)

    def _alive(self) -> bool:
        """False once closed (pyqtgraph drops its plot item before Qt deletes the view)."""
        item = self.__dict__.get("plotItem")
        return item is not None and item.vb is not None

    def _on_theme(self, _theme) -> None:
        if not self._alive():
            return
        style_plot(self)
        if self._rows is not None:
            self.show_rows(self._rows)

    def _clear(self) -> None:
        for item in self._items:
            self.removeItem(item)
        self._items, self._outside = [], []

    def _text(self, text: str, color: str, x: float, y: float, inside: bool) -> None:
        item = pg.TextItem(text, color=color, anchor=(1, 0.5) if inside else (0, 0.5))
        item.setFont(QApplication.font())
        item.setPos(x, y)
        self.addItem(item)
        self._items.append(item)
        if not inside:
            self._outside.append((x, item))

    def _fit_labels(self) -> None:
        """Set the x range so that every label written after its bar fits in the plot
        (labels have a size in pixels, bars in probability: it depends on the width)."""
        width = self.getViewBox().width()
        right = self._min_right
        for end, text in self._outside if width > 0 else ():
            share = (text.boundingRect().width() + 8.0) / width
            right = max(right, end / max(0.15, 1.0 - share))
        self.setXRange(0, right, padding=0.02)
        self._set_ticks(min(right, 100.0), width, right)

    def _set_ticks(self, top: float, width: float, right: float) -> None:
        """Round ticks up to ``top`` %, spaced by at least 2.5 label widths."""
        needed = 2.5 * QFontMetrics(QApplication.font()).horizontalAdvance("100")
        pixels_per_percent = max(width, 1.0) / max(right, 1e-6)
        step = next((s for s in TICK_STEPS if s * pixels_per_percent >= needed), 100)
        ticks = np.arange(0.0, top + 1e-6, step)
        self.getAxis("bottom").setTicks([[(float(v), f"{v:g}") for v in ticks]])

    def resizeEvent(self, event):  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if getattr(self, "_outside", None) and self._alive():  # built, and not closed
            self._fit_labels()

    def show_rows(self, rows) -> None:
        """``rows``: dicts with ``label`` and ``prob`` (and for deltas ``base``, ``delta``),
        best first."""
        self._rows = rows
        self._clear()
        if not rows:
            self.getAxis("left").setTicks([[]])
            return
        self._draw(rows, current_theme().colors)
        ticks = [(int(y), short_label(r["label"])) for y, r in enumerate(rows)]
        self.getAxis("left").setTicks([ticks])
        self.setYRange(-0.6, len(rows) - 0.4, padding=0)
        self._fit_labels()

    def _draw(self, rows, colors) -> None:
        raise NotImplementedError


class TopKChart(_BarChart):
    """Probability written at the end of each bar (inside it when there is no room)."""

    def show_scores(self, scores) -> None:
        self.show_rows([{"label": s.label, "prob": s.prob} for s in scores])

    def _draw(self, rows, colors) -> None:
        probs = np.array([r["prob"] for r in rows]) * 100.0
        ys = np.arange(len(rows))
        fills = [colors["bar_top"]] + [colors["bar"]] * (len(rows) - 1)
        bars = pg.BarGraphItem(x0=0, y=ys, height=0.7, width=probs, brushes=fills,
                               pens=[None] * len(rows))
        self.addItem(bars)
        self._items.append(bars)
        right = min(100.0, max(5.0, float(probs.max()) * 1.25))
        for y, (prob, fill) in enumerate(zip(probs, fills, strict=True)):
            inside = prob > 0.75 * right  # no room after the bar: write inside
            color = readable_on(fill) if inside else colors["foreground"]
            self._text(f"{prob / 100:.1%} " if inside else f" {prob / 100:.1%}", color, prob,
                       y, inside)
        self._min_right = right


class DeltaChart(_BarChart):
    """Top-k on the edited input; dashed outline: the unedited probability; the change
    written beside each bar (green up, red down, plain when there is none)."""

    def _draw(self, rows, colors) -> None:
        ys = np.arange(len(rows))
        now = np.array([r["prob"] for r in rows]) * 100
        before = np.array([r["base"] for r in rows]) * 100
        ghost = pg.BarGraphItem(x0=0, y=ys, height=0.8, width=before, brush=None,
                                pen=pg.mkPen(colors["outline"], width=pen_width(1),
                                             style=pg.QtCore.Qt.PenStyle.DashLine))
        bars = pg.BarGraphItem(x0=0, y=ys, height=0.6, width=now,
                               brushes=[colors["bar_top"]] + [colors["bar"]] * (len(rows) - 1))
        self.addItem(bars)
        self.addItem(ghost)
        self._items += [bars, ghost]
        for y, row in enumerate(rows):
            delta = row["delta"]
            if abs(delta) < NEUTRAL_DELTA:
                text, color = f" {row['prob']:.1%} (±0.0%)", colors["foreground"]
            else:
                text = f" {row['prob']:.1%} ({delta:+.1%})"
                color = colors["gain"] if delta > 0 else colors["loss"]
            self._text(text, color, max(row["prob"], row["base"]) * 100, y, inside=False)
        self._min_right = max(8.0, float(max(now.max(), before.max())) * 1.05)
