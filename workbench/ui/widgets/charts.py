"""Bar charts of class probabilities: top-k (:class:`TopKChart`) and top-k after an edit
with the unedited probability outlined (:class:`DeltaChart`)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from workbench.ui.theme import plot_colors


class TopKChart(pg.PlotWidget):
    """Horizontal bars, best class on top, probability written at the end of each bar."""

    def __init__(self, dark: bool = False):
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
        self.dark = dark

    def _clear(self) -> None:
        for item in self._items:
            self.removeItem(item)
        self._items, self._outside = [], []

    def _fit_labels(self) -> None:
        """Set the x range so that every label written after its bar fits in the plot
        (labels have a size in pixels, bars in probability: it depends on the width)."""
        width = self.getViewBox().width()
        right = self._min_right
        for end, text in self._outside if width > 0 else ():
            share = (text.boundingRect().width() + 6.0) / width
            right = max(right, end / max(0.15, 1.0 - share))
        self.setXRange(0, right, padding=0.02)
        # ticks stop at 100 %: the room after that is only for the labels
        step = next(step for limit, step in ((12, 2), (30, 5), (60, 10), (1e9, 50))
                    if min(right, 100.0) <= limit)
        ticks = np.arange(0.0, min(right, 100.0) + 1e-6, step)
        self.getAxis("bottom").setTicks([[(float(v), f"{v:g}") for v in ticks]])

    def resizeEvent(self, event):  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if getattr(self, "_outside", None):  # not while pyqtgraph is still building the plot
            self._fit_labels()

    def show_scores(self, scores) -> None:
        self._clear()
        if not scores:
            self.getAxis("left").setTicks([[]])
            return
        colors = plot_colors(self.dark)
        probs = np.array([s.prob for s in scores]) * 100.0
        ys = np.arange(len(scores))
        brushes = [colors["bar_top"]] + [colors["bar"]] * (len(scores) - 1)
        bars = pg.BarGraphItem(x0=0, y=ys, height=0.7, width=probs, brushes=brushes, pens=[None]
                               * len(scores))
        self.addItem(bars)
        self._items.append(bars)
        right = min(100.0, max(5.0, float(probs.max()) * 1.25))
        for y, score in zip(ys, scores, strict=True):
            inside = score.prob * 100.0 > 0.75 * right  # no room after the bar: write inside
            text = pg.TextItem(f"{score.prob:.1%} " if inside else f" {score.prob:.1%}",
                               color="#ffffff" if inside else colors["foreground"],
                               anchor=(1, 0.5) if inside else (0, 0.5))
            text.setFont(self.font())
            text.setPos(score.prob * 100.0, y)
            self.addItem(text)
            self._items.append(text)
            if not inside:
                self._outside.append((score.prob * 100.0, text))
        ticks = [(int(y), _short(s.label)) for y, s in zip(ys, scores, strict=True)]
        self.getAxis("left").setTicks([ticks])
        self.setYRange(-0.6, len(scores) - 0.4, padding=0)
        self._min_right = right
        self._fit_labels()


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


class DeltaChart(TopKChart):
    def show_rows(self, rows) -> None:
        """``rows``: dicts with ``label``, ``prob``, ``base``, ``delta`` (best first)."""
        self._clear()
        if not rows:
            return
        colors = plot_colors(self.dark)
        ys = np.arange(len(rows))
        now = np.array([r["prob"] for r in rows]) * 100
        before = np.array([r["base"] for r in rows]) * 100
        ghost = pg.BarGraphItem(x0=0, y=ys, height=0.8, width=before, brush=None,
                                pen=pg.mkPen(colors["foreground"], width=1,
                                             style=pg.QtCore.Qt.PenStyle.DashLine))
        bars = pg.BarGraphItem(x0=0, y=ys, height=0.6, width=now,
                               brushes=[colors["bar_top"]] + [colors["bar"]] * (len(rows) - 1))
        self.addItem(bars)
        self.addItem(ghost)
        self._items += [bars, ghost]
        for y, row in zip(ys, rows, strict=True):
            sign_color = "#2e9e44" if row["delta"] >= 0 else "#d03030"
            text = pg.TextItem(f" {row['prob']:.1%} ({row['delta']:+.1%})", color=sign_color,
                               anchor=(0, 0.5))
            text.setFont(self.font())
            end = max(row["prob"], row["base"]) * 100
            text.setPos(end, y)
            self.addItem(text)
            self._items.append(text)
            self._outside.append((end, text))
        self.getAxis("left").setTicks([[(int(y), _short(r["label"])) for y, r in
                                        zip(ys, rows, strict=True)]])
        self.setYRange(-0.6, len(rows) - 0.4, padding=0)
        self._min_right = max(8.0, float(max(now.max(), before.max())) * 1.05)
        self._fit_labels()
