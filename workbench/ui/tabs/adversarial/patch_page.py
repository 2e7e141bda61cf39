"""The Adversarial tab's patch mode: train a patch that makes the model see a target class
anywhere it is pasted (Brown et al. 2017, https://arxiv.org/abs/1712.09665), watch it and
its success curve form, and paste it onto the current image with a click."""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QWidget,
)

from workbench.ui.tabs.adversarial.jobs import apply_patch_job, load_images_job, train_patch_job
from workbench.ui.theme import current_theme, style_plot
from workbench.ui.widgets.forms import column, row, split, stacked
from workbench.ui.widgets.image_view import ImageView
from workbench.ui.widgets.param_form import ParamForm
from workbench.ui.widgets.target_picker import ClassChooser


def on_grey(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[..., 3:4]
    return rgba[..., :3] * alpha + 0.5 * (1 - alpha)


class PatchPage:
    """``views`` (patch and curve | the patched image) and ``controls``."""

    def __init__(self, panel):
        self.panel = panel
        self.history: list[tuple[int, float]] = []
        panel.patch_view = ImageView(title="patch")
        panel.patch_curve = pg.PlotWidget()
        panel.patch_curve.setLabel("bottom", "step")
        panel.patch_curve.setLabel("left", "p(target)")
        panel.patch_curve.getAxis("left").enableAutoSIPrefix(False)
        panel.patch_curve.setMinimumHeight(110)
        panel.patched_view = ImageView(title="click the image to place the patch")
        panel.patched_view.canvas.scene().sigMouseClicked.connect(self._place_clicked)
        panel.patched_caption = QLabel("")
        panel.patched_caption.setWordWrap(True)
        self.views = split(False, split(True, panel.patch_view, panel.patch_curve),
                           column((panel.patched_view, 1), panel.patched_caption))
        self.controls = self._controls()

    def _controls(self) -> QWidget:
        panel = self.panel
        panel.patch_target = ClassChooser()
        panel.patch_target.setToolTip("the class the patch should make the model see")
        panel.patch_form = ParamForm()  # filled once torch is loaded (the first model)
        panel.patch_source = QComboBox()
        panel.patch_source.addItems(["opened inputs", "a folder…"])
        panel.patch_source.setToolTip("the images the patch is trained on")
        train = QPushButton("Train patch")
        train.setObjectName("trainPatch")
        train.setToolTip("optimize the patch over random placements on the images")
        train.clicked.connect(lambda: self.train())
        stop = QPushButton("Stop")
        stop.setToolTip("stop training; the patch so far is kept")
        stop.clicked.connect(lambda: panel.runner.cancel(panel._handle))
        panel.patch_scale = QDoubleSpinBox(minimum=0.2, maximum=4.0, value=1.0, singleStep=0.1)
        panel.patch_scale.setToolTip("size of the pasted patch (1: as trained)")
        panel.patch_angle = QDoubleSpinBox(minimum=-180.0, maximum=180.0, value=0.0, suffix=" °")
        panel.patch_angle.setToolTip("rotation of the pasted patch")
        save = QPushButton("Save patch PNG…")
        save.setToolTip("RGBA PNG: the alpha channel is the patch's shape")
        save.clicked.connect(lambda: panel.save_patch())
        box = QGroupBox("Patch")
        form = QFormLayout(box)
        form.addRow("Target", panel.patch_target)
        form.addRow(panel.patch_form)
        form.addRow("Train on", panel.patch_source)
        form.addRow(row(train, stop))
        paste = QGroupBox("Paste")
        paste_form = QFormLayout(paste)
        paste_form.addRow("Scale", panel.patch_scale)
        paste_form.addRow("Angle", panel.patch_angle)
        paste_form.addRow(save)
        return stacked(box, paste)

    # ---------------------------------------------------------------- training
    def train(self, folder: str | None = None) -> None:
        from workbench.core.adversarial.patch import PatchParams
        from workbench.core.params import make
        from workbench.errors import WorkbenchError

        panel = self.panel
        model = panel.state.job_model()
        if model is None:
            return
        try:
            params = make(PatchParams, panel.patch_form.values())
        except WorkbenchError as exc:
            panel.state.error(str(exc))
            return
        target = panel.patch_target.index_value()
        if panel.patch_source.currentIndex() == 1 and folder is None:
            folder = QFileDialog.getExistingDirectory(panel, "Images to train the patch on")
            if not folder:
                return
        dock = getattr(panel.window(), "inputs", None)
        records = list(dock.records.values()) if dock is not None else []
        arrays = [r.image for r in records if r.image is not None]
        paths = [folder] if folder else [r.path for r in records if r.path]

        def start(loaded):
            images = arrays + loaded[0]
            if not images:
                panel.state.error("No images to train the patch on")
                return
            panel.patch_view.set_title("training …")
            self.history = []
            panel._handle = panel.runner.submit(
                partial(train_patch_job, model, images, target, params),
                name="Adversarial patch", key="patch", on_partial=self._preview,
                on_finished=self._trained, on_error=panel.on_error)

        panel.runner.submit(partial(load_images_job, paths), name="Reading images",
                            key="patch-read", on_finished=start, on_error=panel.state.error)

    def _curve(self, steps, probs) -> None:
        self.panel.patch_curve.plot(list(steps), list(probs), clear=True,
                                    pen=pg.mkPen(current_theme().colors["bar_top"],
                                                 width=current_theme().pen_width(2)))
        style_plot(self.panel.patch_curve)

    def _preview(self, preview) -> None:
        rgba = np.concatenate([preview.patch, preview.mask[..., None]], axis=2)
        self.panel.patch_view.set_image(on_grey(rgba))
        self.panel.patch_view.set_title(f"step {preview.step} · p(target) "
                                        f"{preview.target_prob:.2f}")
        self.history.append((preview.step, preview.target_prob))
        self._curve(*zip(*self.history, strict=True))

    def _trained(self, result) -> None:
        panel = self.panel
        panel.patch = result
        patch, mask, history = result
        panel.patch_view.set_image(on_grey(np.concatenate([patch, mask[..., None]], axis=2)))
        self._curve(np.arange(1, len(history) + 1), history)
        panel.patched_view.set_title("click the image to place the patch")
        if panel.state.image is not None:
            size = panel.state.model.input_size
            self.paste_at((size[1] / 2, size[0] / 2))

    # ----------------------------------------------------------------- pasting
    def _place_clicked(self, event) -> None:
        panel = self.panel
        if panel.patch is None or panel.patched_view.image is None:
            return
        point = panel.patched_view.image_item.mapFromScene(event.scenePos())
        self.paste_at((point.x(), point.y()))

    def paste_at(self, position) -> None:
        panel = self.panel
        model, image = panel.state.job_model(), panel.state.image
        if model is None or image is None or panel.patch is None:
            return
        patch, mask, _ = panel.patch
        panel.runner.submit(
            partial(apply_patch_job, model, image, patch, mask, position,
                    panel.patch_scale.value(), panel.patch_angle.value()),
            name="Paste patch", key="patch-apply", on_finished=self._pasted,
            on_error=panel.state.error)

    def _pasted(self, result) -> None:
        from workbench.ui.tabs.adversarial.attack_page import scores_text

        picture, scores = result
        self.panel.patched = result
        self.panel.patched_view.set_image(picture)
        self.panel.patched_caption.setText(scores_text(scores))
