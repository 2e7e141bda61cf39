"""Top-k bars on the occluded input, with the unoccluded probability as an outline and the
change written beside each bar."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from workbench.ui.predict_panel import TopKChart, _short
from workbench.ui.theme import plot_colors


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
