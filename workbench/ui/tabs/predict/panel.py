"""The Predict tab: the exact image the model sees and its top-k classes as a bar chart; for
a detector or a segmenter, its boxes or class map and the target the other tabs explain
(``dense_page``)."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.freeze import freeze
from workbench.ui.tabs.base import TaskPanel
from workbench.ui.tabs.predict.dense_page import DensePage
from workbench.ui.widgets.charts import TopKChart
from workbench.ui.widgets.image_view import ImageView


def predict_job(model, image, topk, ctx):
    """Worker job: prediction plus the model-input image as numpy (for display)."""
    from workbench.core.predict import predict_image
    from workbench.core.preprocess import to_image

    prediction, pixels = predict_image(model, image, topk, ctx)
    return prediction, to_image(pixels)


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
        self.headline.setWordWrap(True)
        self.headline.setContentsMargins(6, 6, 6, 6)
        self._headline_font()
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
        self.classic = QWidget()
        classic = QVBoxLayout(self.classic)
        classic.setContentsMargins(0, 0, 0, 0)
        classic.addWidget(splitter)
        self.dense = DensePage(state, runner)
        self._headline_font()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.classic)
        self.pages.addWidget(self.dense)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.pages)
        state.model_changed.connect(self.request_refresh)
        state.image_changed.connect(self.request_refresh)
        state.model_loading.connect(lambda spec: self.detail.setText(f"Loading {spec} …"))

    def _headline_font(self) -> None:
        """Bold and half as large again as the application font (presentation mode too);
        a font, not a style sheet, so the palette keeps following the theme."""
        font = QApplication.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.headline.setFont(font)
        if hasattr(self, "dense"):  # built after the classifier page
            self.dense.set_headline_font(font)

    def on_theme(self, _theme) -> None:
        self._headline_font()

    def request_refresh(self, *_args) -> None:
        """A dense model's target comes from this tab's prediction: predicted also while
        the tab is hidden, so that the other tabs have something to explain."""
        if self.state.is_dense() and self.state.target is None and not freeze.frozen:
            self._dirty = False
            self.refresh_now()
        else:
            super().request_refresh()

    def refresh_now(self) -> None:
        model, image = self.state.model, self.state.model_image()
        if model is None or image is None:
            self.headline.setText("–")
            self.detail.setText("Open an image" if image is None else "Loading the model …")
            return
        dense = model.task != "classification"
        self.pages.setCurrentWidget(self.dense if dense else self.classic)
        if dense:
            self.dense.refresh(model, image)
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
        self.view.set_title(f"what {model.name} sees · {model.input_text()}")
        best = prediction.best
        self.headline.setText(f"{best.label} · {best.prob:.1%}")
        self.chart.show_scores(prediction.top)
        self.detail.setText(f"{self.state.input_name()} · {model.caption()}")

    def _on_error(self, message: str) -> None:
        self.headline.setText("–")
        self.detail.setText(message)
        self.state.error(message)

    def caption(self) -> str:
        model = self.state.model
        if self.state.is_dense():
            return self.dense.caption()
        if model is None or self.prediction is None:
            return ""
        return (f"{self.state.input_name()}: {model.name}, top-1 {self.prediction.best.label} "
                f"({self.prediction.best.prob:.1%}); {model.source}")
