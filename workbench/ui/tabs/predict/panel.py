"""The Predict tab: the exact image the model sees and its top-k classes as a bar chart."""

from __future__ import annotations

from functools import partial

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

from workbench.ui.tabs.base import TaskPanel
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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
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

    def on_theme(self, _theme) -> None:
        self._headline_font()

    def refresh_now(self) -> None:
        model, image = self.state.model, self.state.model_image()
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
        if model is None or self.prediction is None:
            return ""
        return (f"{self.state.input_name()}: {model.name}, top-1 {self.prediction.best.label} "
                f"({self.prediction.best.prob:.1%}); {model.source}")
