"""The Adversarial tab's target-mask mode, for segmenters: paint (or load) a shape, say which
class it should be, and craft the small perturbation that makes the model segment the
picture that way — the lecture's "minion" slide (Metzen et al. 2017,
https://arxiv.org/abs/1704.05712; core: ``workbench.core.adversarial.segmentation_mask``)."""

from __future__ import annotations

from functools import partial

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFileDialog, QFormLayout, QGroupBox, QLabel, QWidget

from workbench.ui.tabs.occlusion.mask_canvas import MaskCanvas
from workbench.ui.widgets.forms import OnShow, button, column, row, split, stacked
from workbench.ui.widgets.image_view import ImageView
from workbench.ui.widgets.param_form import ParamForm

SHAPE, RELABEL = "paint a shape of one class", "relabel one class as another"


def prediction_job(model, image, ctx):
    """Worker job: the model input picture and its predicted classes (numpy)."""
    from workbench.core.preprocess import model_input, to_image
    from workbench.core.tasks.segmentation import class_scores

    x = model_input(model, image)
    return to_image(x), class_scores(model, x)[0].argmax(0).cpu().numpy()


def mask_attack_job(model, image, target, params, ctx):
    """Worker job: the attack, as numpy (the adversarial picture and both segmentations)."""
    from workbench.core.adversarial.segmentation_mask import mask_attack
    from workbench.core.preprocess import model_input, to_image

    result = mask_attack(model, model_input(model, image), target, params, ctx)
    return result, to_image(result.adversarial)


def class_map_rgb(class_map: np.ndarray, labels) -> np.ndarray:
    """A class-index map as RGB in [0, 1]: each class its categorical colour, background
    (label "background" / "__background__") dark grey."""
    from workbench.io.annotate import background_classes
    from workbench.io.palette import class_colors

    colours = np.array(class_colors(len(labels)), np.float32) / 255.0
    colours[background_classes(labels)] = 0.12
    return colours[np.clip(class_map, 0, len(labels) - 1)]


def legend_html(maps, labels) -> str:
    """A coloured square and the name of every class present in ``maps``."""
    from workbench.io.annotate import background_classes
    from workbench.io.palette import categorical

    colours, clear = categorical(len(labels)), set(background_classes(labels))
    present = sorted(set().union(*(np.unique(m).tolist() for m in maps)))
    return " ".join(f'<span style="color:{colours[i]}">■</span>&nbsp;{labels[i]}'
                    for i in present if 0 <= i < len(labels) and i not in clear)


def target_from(prediction: np.ndarray, mode: str, shape: np.ndarray, source: int,
                into: int) -> np.ndarray:
    """The target mask: the clean prediction with the painted ``shape`` set to class ``into``
    (``SHAPE``), or with every pixel of class ``source`` relabelled ``into`` (``RELABEL``)."""
    target = prediction.copy()
    if mode == RELABEL:
        target[prediction == source] = into
    else:
        target[shape] = into
    return target


class MaskAttackPage:
    """``views`` (the clean segmentation with the shape painted on it | the target | the
    adversarial picture | its segmentation) and ``controls``."""

    def __init__(self, panel):
        self.panel = panel
        self.prediction = None  # (model input picture, predicted classes) of the clean input
        self.result = None
        self.canvas = MaskCanvas()
        self.canvas.set_title("clean picture: paint the shape")
        self.canvas.mask_edited.connect(self.show_target)
        self.target_view = ImageView(title="target segmentation")
        self.adversarial_view = ImageView(title="adversarial picture")
        self.after_view = ImageView(title="its segmentation")
        self.verdict = QLabel("Load a segmenter (e.g. digits_segmenter) and a picture")
        self.verdict.setWordWrap(True)
        self.verdict.setObjectName("maskAttackVerdict")
        self.legend = QLabel("")
        self.legend.setObjectName("maskAttackLegend")
        self.legend.setWordWrap(True)
        top = split(False, self.canvas, self.target_view)
        bottom = split(False, self.adversarial_view, self.after_view)
        self.views = column((split(True, top, bottom), 1), self.legend, self.verdict)
        self.controls = self._controls()
        self._stale = False
        self._shown = OnShow(lambda: self.predict() if self._stale else None)
        self.views.installEventFilter(self._shown)
        panel.state.model_changed.connect(self._on_model)
        panel.state.image_changed.connect(lambda _image: self.predict())

    def _controls(self) -> QWidget:
        self.mode = QComboBox()
        self.mode.addItems([SHAPE, RELABEL])
        self.mode.setObjectName("maskAttackMode")
        self.mode.currentTextChanged.connect(lambda _t: self._on_mode())
        self.source = QComboBox()
        self.source.setToolTip("the class whose pixels get relabelled")
        self.into = QComboBox()
        self.into.setToolTip("the class the shape (or the relabelled pixels) should become")
        for combo in (self.source, self.into):
            combo.currentIndexChanged.connect(lambda _i: self.show_target())
        self.form = ParamForm()  # filled when a model loads (torch is not imported before)
        self.run_button = button("Run", "craft the perturbation (Stop in the status bar)",
                                 self.run, "maskAttackRun")
        load = button("Load shape…", "a mask picture: its bright pixels become the shape",
                      self.load_shape)
        clear = button("Clear", "clear the painted shape", self.canvas.clear)
        box = QGroupBox("Target mask")
        form = QFormLayout(box)
        form.addRow("Target", self.mode)
        form.addRow("Class", self.source)
        form.addRow("Becomes", self.into)
        form.addRow(row(load, clear))
        form.addRow(self.form)
        form.addRow(self.run_button)
        hint = QLabel("Paint on the clean picture with the mouse; the budget is in pixel "
                      "units (8/255 is 8 grey levels).")
        hint.setWordWrap(True)
        form.addRow(hint)
        self._on_mode()
        return stacked(box)

    # ------------------------------------------------------------------ inputs
    def segmenter(self):
        from workbench.core.tasks.names import SEGMENTATION

        model = self.panel.state.model
        return model if model is not None and model.task == SEGMENTATION else None

    def _on_model(self, model) -> None:
        from workbench.core.adversarial.segmentation_mask import MaskAttackParams

        self.form.set_params(MaskAttackParams)
        labels = list(getattr(model, "labels", []) or [])
        for combo in (self.source, self.into):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(labels)
            combo.blockSignals(False)
        if len(labels) > 1:
            self.into.setCurrentIndex(1)
        self.predict()

    def _on_mode(self) -> None:
        self.source.setEnabled(self.mode.currentText() == RELABEL)
        self.show_target()

    def predict(self) -> None:
        """Segment the clean picture — when the page is shown (asked again on showing)."""
        self.prediction = self.result = None
        self._stale = not self.views.isVisible()
        if self._stale:
            return
        model, image = self.segmenter(), self.panel.state.image
        if self.panel.state.model is not None and model is None:
            self.verdict.setText("The target-mask attack needs a segmentation model "
                                 "(e.g. digits_segmenter, deeplabv3_mobilenet_v3_large)")
        if model is None or image is None:
            return
        self.panel.runner.submit(partial(prediction_job, model, image),
                                 name="Segment", key="mask-attack-predict",
                                 on_finished=self._on_prediction, on_error=self.verdict.setText)

    def _on_prediction(self, prediction) -> None:
        self.prediction = prediction
        self.canvas.set_base(prediction[0])
        self.verdict.setText("Paint the shape, pick its class, then Run")
        self.show_target()

    def load_shape(self, path: str | None = None) -> None:
        from workbench.io.images import load_image

        if self.prediction is None:
            return
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.views, "Load a shape", "",
                                                  "Images (*.png *.jpg *.bmp)")
        if not path:
            return
        from workbench.core.preprocess import to_pixels

        shape = to_pixels(load_image(path), self.canvas.mask.shape)[0].mean(0).numpy() > 0.5
        self.canvas.set_mask(shape)

    def target(self) -> np.ndarray | None:
        if self.prediction is None:
            return None
        return target_from(self.prediction[1], self.mode.currentText(), self.canvas.mask,
                           self.source.currentIndex(), self.into.currentIndex())

    def show_target(self) -> None:
        target, model = self.target(), self.segmenter()
        if target is None or model is None:
            return
        self.target_view.set_image(class_map_rgb(target, model.labels))
        self.legend.setText("Classes: " + legend_html([target], model.labels))

    # ------------------------------------------------------------------ attack
    def run(self) -> None:
        model, image, target = self.segmenter(), self.panel.state.image, self.target()
        if model is None or image is None or target is None:
            return
        self.verdict.setText("crafting the perturbation …")
        self.panel._handle = self.panel.runner.submit(
            partial(mask_attack_job, model, image, target, self.form.values()),
            name="Target-mask attack", key="attack", on_finished=self._show,
            on_error=self.verdict.setText, on_cancelled=lambda: self.verdict.setText("stopped"))

    def _show(self, outcome) -> None:
        result, picture = outcome
        model = self.segmenter()
        if model is None:
            return
        self.result = result
        self.adversarial_view.set_image(picture)
        self.after_view.set_image(class_map_rgb(result.after, model.labels))
        self.verdict.setText(
            f"<b>{result.agreement_after:.0%}</b> of the pixels take the target class "
            f"(clean picture: {result.agreement_before:.0%}); of the pixels the target "
            f"changes, {result.changed_after:.0%}; {result.steps} steps; "
            f"L∞ {result.linf * 255:.1f}/255")
        self.verdict.setTextFormat(Qt.TextFormat.RichText)
