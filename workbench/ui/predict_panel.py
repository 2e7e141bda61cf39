"""The Predict tab: the exact image the model sees and its top-k classes as a bar chart."""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.image_view import ImageView
from workbench.ui.panel_base import TaskPanel
from workbench.ui.theme import plot_colors


def predict_job(model, image, topk, ctx):
    """Worker job: prediction plus the model-input image as numpy (for display)."""
    from workbench.core.predict import predict_image
    from workbench.core.preprocess import to_image

    prediction, pixels = predict_image(model, image, topk, ctx)
    return prediction, to_image(pixels)


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


class PredictPanel(TaskPanel):
    """Shows what the model predicts for the current image; updates on image or model change."""

    title = "Predict"

    def __init__(self, state, runner, parent=None):
        super().__init__(state, runner, parent)
        self.setObjectName("PredictPanel")
        self.prediction = None
        self.view = ImageView(title="model input")
        self.headline = QLabel("–")
        self.headline.setObjectName("predictHeadline")
        self.headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.headline.setStyleSheet("font-weight: bold; padding: 6px;")
        self.detail = QLabel("")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setWordWrap(True)
        self.chart = TopKChart()
        self.topk = QSpinBox(minimum=1, maximum=20, value=5, prefix="top ")
        self.topk.setObjectName("topkSpin")
        self.topk.valueChanged.connect(self.request_refresh)
        controls = QHBoxLayout()
        controls.addStretch(1)
        controls.addWidget(QLabel("Show"))
        controls.addWidget(self.topk)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.headline)
        right_layout.addWidget(self.chart, 1)
        right_layout.addWidget(self.detail)
        right_layout.addLayout(controls)
        splitter = QSplitter()
        splitter.addWidget(self.view)
        splitter.addWidget(right)
        splitter.setSizes([500, 500])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        state.model_changed.connect(self.request_refresh)
        state.image_changed.connect(self.request_refresh)
        state.model_loading.connect(lambda spec: self.detail.setText(f"Loading {spec} …"))

    def set_dark(self, dark: bool) -> None:
        """Re-style for the current theme and application font (presentation mode)."""
        font = QApplication.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        self.headline.setFont(font)
        self.chart.dark = dark
        super().set_dark(dark)
        if self.prediction is not None:
            self.chart.show_scores(self.prediction.top)

    def refresh_now(self) -> None:
        model, image = self.state.model, self.state.image
        if model is None or image is None:
            self.headline.setText("–")
            self.detail.setText("Open an image" if image is None else "Loading the model …")
            return
        self.runner.submit(
            partial(predict_job, model, image, self.topk.value()),
            name="Predict",
            key="predict",
            on_finished=partial(self._show, model),
            on_error=self._on_error,
        )

    def _show(self, model, result) -> None:
        prediction, model_input = result
        self.prediction = prediction
        self.view.set_image(model_input)
        h, w = model.input_size
        self.view.set_title(f"what {model.name} sees · {w}×{h}")
        best = prediction.best
        self.headline.setText(f"{best.label} · {best.prob:.1%}")
        self.chart.show_scores(prediction.top)
        self.detail.setText(f"{self.state.image_name} · {model.caption()}")

    def _on_error(self, message: str) -> None:
        self.headline.setText("–")
        self.detail.setText(message)
        self.state.error(message)

    def caption(self) -> str:
        model = self.state.model
        if model is None or self.prediction is None:
            return ""
        return (f"{self.state.image_name}: {model.name}, top-1 {self.prediction.best.label} "
                f"({self.prediction.best.prob:.1%}); {model.source}")
