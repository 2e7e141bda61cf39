"""Two maps side by side with the Attribution tab's method and layer: the same image for two
classes (the lecture's "Grad-CAM for cat vs dog"), or two images for one class."""

from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.tabs.attribution.jobs import pair_job
from workbench.ui.widgets.overlay_view import OverlayView
from workbench.ui.widgets.target_picker import ClassChooser

CLASSES, IMAGES = "classes", "images"
EACH_TOP1 = "each image's top-1"


class PairPage(QWidget):
    """``settings()`` (given by the panel) returns ``(method, layer, params, style, target)``."""

    def __init__(self, state, runner, mode: str, settings, parent=None):
        super().__init__(parent)
        self.state, self.runner, self.mode, self.settings = state, runner, mode, settings
        self.results: list = []
        self.views = [OverlayView(title=" "), OverlayView(title=" ")]
        self.compute_button = QPushButton("Compare")
        self.compute_button.setObjectName(f"comparePair-{mode}")
        self.compute_button.clicked.connect(self.compute)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        pickers = QGridLayout()
        if mode == CLASSES:
            self.first, self.second = ClassChooser(), ClassChooser()
            self.compute_button.setToolTip("the same image, the same method: where does the model "
                                           "look for each class?")
            pickers.addWidget(QLabel("Class A"), 0, 0)
            pickers.addWidget(self.first, 0, 1)
            pickers.addWidget(QLabel("Class B"), 1, 0)
            pickers.addWidget(self.second, 1, 1)
        else:
            self.other = QComboBox()
            self.other.setToolTip("the second image, from the Inputs dock")
            self.other.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            self.other.setMinimumContentsLength(12)
            self.compute_button.setToolTip("the same class, the same method, two images")
            pickers.addWidget(QLabel("Image B"), 0, 0)
            pickers.addWidget(self.other, 0, 1)
        pickers.setColumnStretch(1, 1)
        top = QHBoxLayout()
        top.addLayout(pickers, 1)
        top.addWidget(self.compute_button)
        maps = QHBoxLayout()
        for view in self.views:
            maps.addWidget(view, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addLayout(maps, 1)
        state.model_changed.connect(self._on_model)
        state.target_changed.connect(lambda _t: self._on_model(state.job_model()))

    def _on_model(self, model) -> None:
        self.results = []
        for view in self.views:
            view.set_map(None)
            view.set_image(None)
            view.set_title(" ")
        if model is not None and self.mode == CLASSES:
            self.first.set_labels(model.labels)
            self.second.set_labels(model.labels)

    def suggest(self, top) -> None:
        """Default classes A and B: the two most probable (set after every new map)."""
        if self.mode == CLASSES and len(top) >= 2 and not self.results:
            self.first.setCurrentIndex(top[0].index)
            self.second.setCurrentIndex(top[1].index)

    def set_inputs(self, records) -> None:
        if self.mode != IMAGES:
            return
        current = self.other.currentData()
        self.other.clear()
        for record in records:
            self.other.addItem(record.name, record)
        index = max(0, self.other.findText(current.name) if current is not None else -1)
        self.other.setCurrentIndex(min(index, self.other.count() - 1))

    def compute(self) -> None:
        model, image = self.state.job_model(), self.state.model_image()
        if model is None or image is None:
            self.status.setText("Needs a model and an image.")
            return
        method, layer, params, _style, target = self.settings()
        if self.mode == CLASSES:
            images = [image, image]
            targets = [self.first.index_value(), self.second.index_value()]
        else:
            record = self.other.currentData()
            if record is None:
                self.status.setText("Open a second image in the Inputs dock.")
                return
            images = [image, record.image if record.image is not None else record.path]
            targets = [target, target]
        self.status.setText("computing …")
        self.runner.submit(partial(pair_job, model, images, method, layer, targets, params),
                           name="Two maps side by side", key=f"attribution-pair-{self.mode}",
                           on_finished=self._show, on_error=self._error)

    def _show(self, results) -> None:
        self.results = results
        _method, _layer, _params, style, _target = self.settings()
        names = [self.state.input_name(), self.other.currentText()] if self.mode == IMAGES else \
            [self.state.input_name()] * 2
        for view, result, name in zip(self.views, results, names, strict=True):
            view.set_image(result.input_image)
            view.set_style(style)
            view.set_map(result.heat, units="attribution value")
            view.set_title(f"{name}: “{result.label}” (class {result.target}, "
                           f"p = {result.prob:.1%})")
        self.status.setText(f"{results[0].method_title} at {results[0].layer or 'the input'}")

    def _error(self, message: str) -> None:
        self.status.setText(message)
        self.state.error(message)

    def set_style(self, style) -> None:
        for view in self.views:
            view.set_style(style)
