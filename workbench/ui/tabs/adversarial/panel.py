"""The Adversarial tab: craft a perturbation or a patch and see what it does to the
prediction, the explanation and the feature space (Goodfellow et al. 2014,
https://arxiv.org/abs/1412.6572; Brown et al. 2017, https://arxiv.org/abs/1712.09665)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.tabs.adversarial.jobs import (
    apply_patch_job,
    attack_job,
    cam_pair_job,
    load_images_job,
    save_and_check_job,
    sweep_job,
    train_patch_job,
)
from workbench.ui.tabs.base import TaskPanel
from workbench.ui.widgets.image_view import ImageView
from workbench.ui.widgets.overlay_view import OverlayView
from workbench.ui.widgets.param_form import ParamForm
from workbench.ui.widgets.target_picker import ClassChooser

TARGET_MODES = ("untargeted", "class", "least-likely")


def scores_text(scores) -> str:
    return "<br>".join(f"{s.label} · {s.prob:.1%}" for s in scores)


def amplify(perturbation: np.ndarray, factor: float) -> np.ndarray:
    """A signed perturbation shown around mid-grey, scaled so that it is visible."""
    return np.clip(0.5 + perturbation * factor, 0.0, 1.0)


class AdversarialPanel(TaskPanel):
    title = "Adversarial"

    def __init__(self, state, runner, parent=None):
        super().__init__(state, runner, parent)
        self.setObjectName("AdversarialPanel")
        self.methods: dict = {}
        self.result = None  # AttackView
        self.sweep = None  # SweepView
        self.patch = None  # (patch, mask, history)
        self.patched = None
        self.embeddings = None  # the Embeddings panel, set by the main window
        self._handle = None
        self.modes = QTabWidget()
        self.modes.addTab(self._build_attack_page(), "Attack")
        self.modes.addTab(self._build_sweep_page(), "Epsilon sweep")
        self.modes.addTab(self._build_patch_page(), "Patch")
        self.lay_out(self.modes, self._build_controls(), (680, 300))
        state.model_changed.connect(self._on_model)
        state.image_changed.connect(self._on_image)

    # ---------------------------------------------------------------- building
    def _build_attack_page(self) -> QWidget:
        self.original_view = ImageView(title="original")
        self.noise_view = ImageView(title="perturbation")
        self.adversarial_view = ImageView(title="adversarial")
        self.captions = [QLabel(""), QLabel(""), QLabel("")]
        self.cam_views = [OverlayView(title="Grad-CAM · original"),
                          OverlayView(title="Grad-CAM · adversarial")]
        self.verdict = QLabel("Choose an attack and press Run.")
        self.verdict.setWordWrap(True)
        grid = QGridLayout()
        for column, view in enumerate((self.original_view, self.noise_view,
                                       self.adversarial_view)):
            grid.addWidget(view, 0, column)
            self.captions[column].setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(self.captions[column], 1, column)
            grid.setColumnStretch(column, 1)
        grid.setRowStretch(0, 3)
        grid.addWidget(self.cam_views[0], 2, 0)
        grid.addWidget(self.cam_views[1], 2, 2)
        grid.addWidget(self.verdict, 2, 1)
        grid.setRowStretch(2, 2)
        page = QWidget()
        page.setLayout(grid)
        return page

    def _build_sweep_page(self) -> QWidget:
        self.eps_from = QDoubleSpinBox(minimum=0.0, maximum=255.0, value=0.0, suffix=" /255")
        self.eps_to = QDoubleSpinBox(minimum=0.0, maximum=255.0, value=16.0, suffix=" /255")
        self.eps_count = QSpinBox(minimum=2, maximum=64, value=9)
        run = QPushButton("Run sweep")
        run.setObjectName("runSweep")
        run.clicked.connect(self.run_sweep)
        self.sweep_plot = pg.PlotWidget()
        self.sweep_plot.setLabel("bottom", "epsilon (/255)")
        self.sweep_plot.setLabel("left", "probability")
        self.sweep_plot.getAxis("left").enableAutoSIPrefix(False)
        self.sweep_plot.addLegend(offset=(-5, 5))
        self.sweep_view = ImageView(title="click a point")
        row = QGridLayout()
        for column, (label, widget) in enumerate((("from", self.eps_from), ("to", self.eps_to),
                                                  ("points", self.eps_count))):
            row.addWidget(QLabel(label), 0, column)
            row.addWidget(widget, 1, column)
        row.addWidget(run, 1, 3)
        row.setColumnStretch(4, 1)
        split = QSplitter()
        split.addWidget(self.sweep_plot)
        split.addWidget(self.sweep_view)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addLayout(row)
        layout.addWidget(split, 1)
        return page

    def _build_patch_page(self) -> QWidget:
        self.patch_target = ClassChooser()
        self.patch_form = ParamForm()  # filled once torch is loaded (the first model)
        self.patch_source = QComboBox()
        self.patch_source.addItems(["opened inputs", "a folder…"])
        train = QPushButton("Train patch")
        train.setObjectName("trainPatch")
        train.clicked.connect(self.train_patch)
        stop = QPushButton("Stop")
        stop.clicked.connect(lambda: self.runner.cancel(self._handle))
        self.patch_view = ImageView(title="patch")
        self.patch_curve = pg.PlotWidget()
        self.patch_curve.setLabel("bottom", "step")
        self.patch_curve.setLabel("left", "p(target)")
        self.patch_curve.getAxis("left").enableAutoSIPrefix(False)
        self.patch_curve.setMinimumHeight(110)
        self.patched_view = ImageView(title="click the image to place the patch")
        self.patched_view.canvas.scene().sigMouseClicked.connect(self._place_clicked)
        self.patch_scale = QDoubleSpinBox(minimum=0.2, maximum=4.0, value=1.0, singleStep=0.1)
        self.patch_angle = QDoubleSpinBox(minimum=-180.0, maximum=180.0, value=0.0)
        self.patched_caption = QLabel("")
        save = QPushButton("Save patch PNG…")
        save.clicked.connect(lambda: self.save_patch())
        form = QFormLayout()
        form.addRow("Target class", self.patch_target)
        form.addRow(self.patch_form)
        form.addRow("Train on", self.patch_source)
        buttons = QHBoxLayout()
        buttons.addWidget(train)
        buttons.addWidget(stop)
        form.addRow(buttons)
        form.addRow("Paste scale", self.patch_scale)
        form.addRow("Paste angle", self.patch_angle)
        form.addRow(save)
        form_widget = QWidget()
        form_widget.setLayout(form)
        left = QScrollArea()
        left.setWidgetResizable(True)
        left.setWidget(form_widget)
        left.setMinimumWidth(180)
        left.setMaximumWidth(300)
        middle = QVBoxLayout()
        middle.addWidget(self.patch_view, 2)
        middle.addWidget(self.patch_curve, 1)
        right = QVBoxLayout()
        right.addWidget(self.patched_view, 1)
        right.addWidget(self.patched_caption)
        page = QWidget()
        layout = QHBoxLayout(page)
        layout.addWidget(left)
        layout.addLayout(middle, 1)
        layout.addLayout(right, 1)
        return page

    def _build_controls(self) -> QWidget:
        self.method = QComboBox()
        self.method.setObjectName("attackCombo")
        self.method.currentIndexChanged.connect(self._on_method)
        self.form = ParamForm()
        self.target_mode = QComboBox()
        self.target_mode.addItems(TARGET_MODES)
        self.target_class = ClassChooser()
        self.target_mode.currentTextChanged.connect(
            lambda mode: self.target_class.setEnabled(mode == "class"))
        self.target_class.setEnabled(False)
        self.amplification = QSpinBox(minimum=1, maximum=500, value=30, prefix="× ")
        self.amplification.valueChanged.connect(lambda _v: self._show_attack())
        run = QPushButton("Run attack")
        run.setObjectName("runAttack")
        run.clicked.connect(self.run_attack)
        stop = QPushButton("Stop")
        stop.clicked.connect(lambda: self.runner.cancel(self._handle))
        save = QPushButton("Save adversarial PNG…")
        save.clicked.connect(lambda: self.save_adversarial())
        embed = QPushButton("Show in the embedding map")
        embed.clicked.connect(self.show_in_embedding)
        self.save_label = QLabel("")
        self.save_label.setWordWrap(True)
        box = QGroupBox("Attack")
        form = QFormLayout(box)
        form.addRow("Method", self.method)
        form.addRow(self.form)
        form.addRow("Goal", self.target_mode)
        form.addRow("Target", self.target_class)
        form.addRow("Show noise", self.amplification)
        buttons = QHBoxLayout()
        buttons.addWidget(run)
        buttons.addWidget(stop)
        form.addRow(buttons)
        form.addRow(save)
        form.addRow(self.save_label)
        form.addRow(embed)
        body = QWidget()
        column = QVBoxLayout(body)
        column.addWidget(box)
        column.addStretch(1)
        return body

    # ------------------------------------------------------------------ inputs
    def _load_methods(self) -> None:
        from workbench.core.adversarial import METHOD_ORDER, METHODS
        from workbench.core.adversarial.patch import PatchParams

        self.patch_form.set_params(PatchParams)
        self.methods = {name: METHODS[name] for name in METHOD_ORDER}
        self.method.blockSignals(True)
        for name, method in self.methods.items():
            self.method.addItem(method.title or name, name)
        self.method.setCurrentIndex(list(self.methods).index("pgd"))
        self.method.blockSignals(False)
        self._on_method()

    def _on_method(self, *_args) -> None:
        if self.methods:
            self.form.set_params(self.methods[self.method.currentData()].params_cls)

    def _on_model(self, model) -> None:
        self.result = self.sweep = self.patch = None
        if model is None:
            return
        if not self.methods:
            self._load_methods()
        self.target_class.set_labels(model.labels)
        self.patch_target.set_labels(model.labels)
        toaster = model.labels.index("toaster") if "toaster" in model.labels else 0
        self.patch_target.setCurrentIndex(toaster)

    def _on_image(self, image) -> None:
        """A new image: show it as the original and clear the last attack's results."""
        self.result = None
        self.original_view.set_image(image)
        for view in (self.noise_view, self.adversarial_view, *self.cam_views):
            view.set_image(None)
        self.noise_view.set_title("perturbation")
        for caption in self.captions:
            caption.setText("")
        for view, which in zip(self.cam_views, ("original", "adversarial"), strict=True):
            view.set_map(None)
            view.set_title(f"Grad-CAM · {which}")
        self.verdict.setText("Choose an attack and press Run." if image is not None else "")

    def target(self):
        mode = self.target_mode.currentText()
        if mode == "class":
            return self.target_class.index_value()
        return "least-likely" if mode == "least-likely" else None

    def refresh_now(self) -> None:
        """Attacks start from Run; nothing to recompute when the tab is shown."""

    # ------------------------------------------------------------------ attack
    def run_attack(self) -> None:
        model, image = self.state.model, self.state.image
        if model is None or image is None or not self.methods:
            return
        method = self.method.currentData()
        self.verdict.setText(f"running {self.methods[method].title} …")
        self._handle = self.runner.submit(
            partial(attack_job, model, image, method, self.target(), self.form.values()),
            name=f"Attack: {self.methods[method].title}", key="attack",
            on_finished=self._on_attack, on_error=self._on_error,
            on_cancelled=lambda: self.verdict.setText("stopped"))

    def _on_attack(self, view) -> None:
        self.result = view
        self._show_attack()
        self.runner.submit(partial(cam_pair_job, self.state.model, view.original,
                                   view.adversarial),
                           name="Grad-CAM of both", key="attack-cams",
                           on_finished=self._show_cams, on_error=self.state.error)

    def _show_attack(self) -> None:
        view = self.result
        if view is None:
            return
        self.original_view.set_image(view.original)
        self.adversarial_view.set_image(view.adversarial)
        factor = self.amplification.value()
        self.noise_view.set_image(amplify(view.perturbation, factor))
        self.noise_view.set_title(f"perturbation × {factor} · L∞ {view.linf * 255:.2f}/255 · "
                                  f"L2 {view.l2:.3f}")
        self.captions[0].setText(scores_text(view.before))
        self.captions[2].setText(scores_text(view.after))
        goal = (f"target {self.state.model.label(view.target)}" if view.target is not None
                else f"leave {self.state.model.label(view.true_class)}")
        outcome = "succeeded" if view.success else "failed"
        rounding = ("and still works after rounding to 8 bits" if view.quantized_fools else
                    f"but rounding to 8 bits undoes it (8-bit top-1: {view.quantized_top.label})")
        self.verdict.setText(f"<b>{self.methods[view.method].title}</b> ({goal}) {outcome} in "
                             f"{view.steps_run} steps " + (rounding if view.success else ""))

    def _show_cams(self, result) -> None:
        maps, labels = result
        for view, heat, picture, label, which in zip(
                self.cam_views, maps, (self.result.original, self.result.adversarial), labels,
                ("original", "adversarial"), strict=True):
            view.set_image(picture)
            view.set_map(heat)
            view.set_title(f"Grad-CAM · {which}: {label}")

    def _on_error(self, message: str) -> None:
        self.verdict.setText(message)
        self.state.error(message)

    def save_adversarial(self, path: str | None = None) -> str | None:
        if self.result is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save adversarial image",
                                                  "adversarial.png", "PNG (*.png)")
        if not path:
            return None
        view = self.result
        self.save_label.setText("saving and re-checking …")
        self.runner.submit(
            partial(save_and_check_job, self.state.model, view.adversarial, view.true_class,
                    view.target, path),
            name="Save and re-check", key="attack-save",
            on_finished=partial(self._on_saved, path), on_error=self.state.error)
        return path

    def _on_saved(self, path, result) -> None:
        best, fools = result
        if fools:
            self.save_label.setText(f"Saved {path}; read back, it is still {best.label} "
                                    f"({best.prob:.1%}): the attack survives 8 bits.")
            self.state.info(f"Saved {path}")
        else:
            self.save_label.setText(f"Saved {path}, but read back it is {best.label} again: "
                                    "rounding to 8 bits undid the attack — raise epsilon.")
            self.state.error(f"Saved {path}, but rounding to 8 bits undid the attack")

    def show_in_embedding(self) -> None:
        if self.result is None:
            self.state.error("Run an attack first")
            return
        if self.embeddings is None or not self.embeddings.has_map():
            self.state.error("Open the Embeddings tab and build a map first")
            return
        self.embeddings.place_pair(self.result.original, self.result.adversarial)

    # ------------------------------------------------------------------- sweep
    def eps_list(self) -> list[float]:
        low, high = self.eps_from.value() / 255.0, self.eps_to.value() / 255.0
        return list(np.linspace(low, high, self.eps_count.value()))

    def run_sweep(self) -> None:
        model, image = self.state.model, self.state.image
        if model is None or image is None or not self.methods:
            return
        method = self.method.currentData()
        self._handle = self.runner.submit(
            partial(sweep_job, model, image, method, self.eps_list(), self.target(),
                    self.form.values()),
            name=f"Epsilon sweep: {self.methods[method].title}", key="attack-sweep",
            on_finished=self._on_sweep, on_error=self._on_error)

    def _on_sweep(self, sweep) -> None:
        self.sweep = sweep
        plot = self.sweep_plot
        plot.clear()
        eps = sweep.eps * 255.0
        true_curve = plot.plot(eps, sweep.true_prob, pen=pg.mkPen("#3d7bd9", width=2),
                               symbol="o", symbolBrush="#3d7bd9",
                               name=f"p({sweep.true_label})")
        true_curve.sigPointsClicked.connect(self._on_sweep_point)
        if sweep.target_prob is not None:
            target_curve = plot.plot(eps, sweep.target_prob, pen=pg.mkPen("#d9534f", width=2),
                                     symbol="t", symbolBrush="#d9534f",
                                     name=f"p({sweep.target_label})")
            target_curve.sigPointsClicked.connect(self._on_sweep_point)
        plot.setYRange(0, 1, padding=0.02)
        self.show_sweep_point(len(eps) - 1)

    def _on_sweep_point(self, _curve, points, *_args) -> None:
        if points:
            self.show_sweep_point(int(points[0].index()))

    def show_sweep_point(self, index: int) -> None:
        sweep = self.sweep
        self.sweep_view.set_image(sweep.images[index])
        self.sweep_view.set_title(f"ε = {sweep.eps[index] * 255:.1f}/255 → {sweep.top1[index]}")

    # ------------------------------------------------------------------- patch
    def train_patch(self, folder: str | None = None) -> None:
        from workbench.core.adversarial.patch import PatchParams
        from workbench.core.params import make
        from workbench.errors import WorkbenchError

        model = self.state.model
        if model is None:
            return
        try:
            params = make(PatchParams, self.patch_form.values())
        except WorkbenchError as exc:
            self.state.error(str(exc))
            return
        target = self.patch_target.index_value()
        if self.patch_source.currentIndex() == 1 and folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Images to train the patch on")
            if not folder:
                return
        dock = getattr(self.window(), "inputs", None)
        records = list(dock.records.values()) if dock is not None else []
        arrays = [r.image for r in records if r.image is not None]
        paths = [folder] if folder else [r.path for r in records if r.path]

        def start(loaded):
            images = arrays + loaded[0]
            if not images:
                self.state.error("No images to train the patch on")
                return
            self.patch_view.set_title("training …")
            self._history = []
            self._handle = self.runner.submit(
                partial(train_patch_job, model, images, target, params),
                name="Adversarial patch", key="patch", on_partial=self._on_patch_preview,
                on_finished=self._on_patch, on_error=self._on_error)

        self.runner.submit(partial(load_images_job, paths), name="Reading images",
                           key="patch-read", on_finished=start, on_error=self.state.error)

    def _on_patch_preview(self, preview) -> None:
        rgba = np.concatenate([preview.patch, preview.mask[..., None]], axis=2)
        self.patch_view.set_image(_on_grey(rgba))
        self.patch_view.set_title(f"step {preview.step} · p(target) {preview.target_prob:.2f}")
        self._history.append((preview.step, preview.target_prob))
        steps, probs = zip(*self._history, strict=True)
        self.patch_curve.plot(list(steps), list(probs), clear=True,
                              pen=pg.mkPen("#e07b20", width=2))

    def _on_patch(self, result) -> None:
        self.patch = result
        patch, mask, history = result
        self.patch_view.set_image(_on_grey(np.concatenate([patch, mask[..., None]], axis=2)))
        self.patch_curve.plot(np.arange(1, len(history) + 1), history, clear=True,
                              pen=pg.mkPen("#e07b20", width=2))
        self.patched_view.set_title("click the image to place the patch")
        if self.state.image is not None:
            size = self.state.model.input_size
            self.paste_at((size[1] / 2, size[0] / 2))

    def _place_clicked(self, event) -> None:
        if self.patch is None or self.patched_view.image is None:
            return
        point = self.patched_view.image_item.mapFromScene(event.scenePos())
        self.paste_at((point.x(), point.y()))

    def paste_at(self, position) -> None:
        model, image = self.state.model, self.state.image
        if model is None or image is None or self.patch is None:
            return
        patch, mask, _ = self.patch
        self.runner.submit(
            partial(apply_patch_job, model, image, patch, mask, position,
                    self.patch_scale.value(), self.patch_angle.value()),
            name="Paste patch", key="patch-apply", on_finished=self._on_patched,
            on_error=self.state.error)

    def _on_patched(self, result) -> None:
        picture, scores = result
        self.patched = result
        self.patched_view.set_image(picture)
        self.patched_caption.setText(scores_text(scores))

    def save_patch(self, path: str | None = None) -> str | None:
        from workbench.io.export import save_png

        if self.patch is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save patch", "patch.png", "PNG (*.png)")
        if path:
            patch, mask, _ = self.patch
            rgba = np.concatenate([patch, mask[..., None]], axis=2)  # alpha = the patch's shape
            save_png(path, rgba, {"Caption": f"adversarial patch for class "
                                             f"{self.patch_target.currentText()}",
                                  "Target": str(self.patch_target.index_value())})
        return path or None

    def caption(self) -> str:
        model, view = self.state.model, self.result
        if model is None or view is None:
            return ""
        params = ", ".join(f"{k}={v}" for k, v in self.form.values().items())
        return (f"{self.methods[view.method].title} on {self.state.image_name}: "
                f"{view.before[0].label} → {view.after[0].label} (L∞ {view.linf * 255:.1f}/255, "
                f"L2 {view.l2:.3f}); {params}; {model.caption()}")


def _on_grey(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[..., 3:4]
    return rgba[..., :3] * alpha + 0.5 * (1 - alpha)
