"""The Adversarial tab: craft a perturbation or a patch and see what it does to the
prediction, the explanation and the feature space (Goodfellow et al. 2014,
https://arxiv.org/abs/1412.6572; Brown et al. 2017, https://arxiv.org/abs/1712.09665)."""

from __future__ import annotations

from functools import partial

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.tabs.adversarial.attack_page import AttackPage
from workbench.ui.tabs.adversarial.jobs import (
    attack_job,
    cam_pair_job,
    save_and_check_job,
    sweep_job,
)
from workbench.ui.tabs.adversarial.mask_page import MaskAttackPage
from workbench.ui.tabs.adversarial.patch_page import PatchPage
from workbench.ui.tabs.adversarial.sweep_page import SweepPage
from workbench.ui.tabs.adversarial.typographic_page import TypographicPage
from workbench.ui.tabs.base import TaskPanel
from workbench.ui.widgets.param_form import ParamForm
from workbench.ui.widgets.target_line import TargetLine
from workbench.ui.widgets.target_picker import ClassChooser

TARGET_MODES = ("untargeted", "class", "least-likely")


class AdversarialPanel(TaskPanel):
    title = "Adversarial"

    def __init__(self, state, runner, parent=None):
        super().__init__(state, runner, parent)
        self.setObjectName("AdversarialPanel")
        self.methods: dict = {}
        self.result = None  # AttackView
        self.result_model = None  # the model, input image and goal the result was made with
        self.result_image = None
        self.result_goal = None
        self._asked = None
        self.sweep = None  # SweepView
        self.patch = None  # (patch, mask, history)
        self.patched = None
        self.embeddings = None  # the Embeddings panel, set by the main window
        self._handle = None
        self.attacks = AttackPage(self)
        self.sweeps = SweepPage(self)
        self.patches = PatchPage(self)
        self.typographic = TypographicPage(self)  # write a word on the picture
        self.masks = MaskAttackPage(self)  # a segmenter made to output a chosen mask
        self.modes = QTabWidget()
        self.modes.addTab(self.attacks.views, "Attack")
        self.modes.addTab(self.sweeps.views, "Epsilon sweep")
        self.modes.addTab(self.patches.views, "Patch")
        self.modes.addTab(self.typographic.views, "Typographic")
        self.modes.addTab(self.masks.views, "Target mask")
        mode_controls = QStackedWidget()
        for page in (self.attacks.controls, self.sweeps.controls,
                     self.patches.controls, self.typographic.controls, self.masks.controls):
            mode_controls.addWidget(page)
        self.modes.currentChanged.connect(mode_controls.setCurrentIndex)
        self.method_box = self._build_method_box()
        own_forms = (self.modes.indexOf(self.typographic.views),  # no gradient attack
                     self.modes.indexOf(self.masks.views))  # its own form
        self.modes.currentChanged.connect(
            lambda index: self.method_box.setVisible(index not in own_forms))
        body = QWidget()
        column = QVBoxLayout(body)
        column.addWidget(self.method_box)
        column.addWidget(mode_controls, 1)
        self.lay_out(self.modes, body)
        self.add_shortcuts(run=self.run_button, stop=self.stop_button, export=self.save_button)
        state.model_changed.connect(self._on_model)
        state.image_changed.connect(self._on_image)
        state.target_changed.connect(self._on_dense_target)

    # ---------------------------------------------------------------- building
    def _build_method_box(self) -> QWidget:
        self.method = QComboBox()
        self.method.setObjectName("attackCombo")
        self.method.setToolTip("the attack (budgets are in pixel units: 8/255 is 8 grey levels)")
        self.method.currentIndexChanged.connect(self._on_method)
        self.form = ParamForm()
        self.target_mode = QComboBox()
        self.target_mode.addItems(TARGET_MODES)
        self.target_mode.setToolTip("untargeted: leave the true class; class: reach a class; "
                                    "least-likely: reach the least probable class")
        self.target_class = ClassChooser()
        self.target_class.setToolTip("the class a targeted attack aims for")
        self.target_mode.currentTextChanged.connect(
            lambda mode: self.target_class.setEnabled(mode == "class"))
        self.target_class.setEnabled(False)
        box = QGroupBox("Attack")
        form = QFormLayout(box)
        form.addRow(TargetLine(self.state))
        form.addRow("Method", self.method)
        form.addRow(self.form)
        form.addRow("Goal", self.target_mode)
        form.addRow("Target", self.target_class)
        return box

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

    def _on_dense_target(self, _target) -> None:
        """A dense model's target changed: the classes of its scored model (for a
        detector the last one, "nothing", makes the detection vanish)."""
        model = self.state.job_model()
        if model is not None and self.state.is_dense():
            self.result = self.sweep = None
            self.target_class.set_labels(model.labels)
            self.patch_target.set_labels(model.labels)

    def _on_image(self, image) -> None:
        self.result = None
        self.attacks.clear(image)

    def on_theme(self, _theme) -> None:
        self.sweeps.plot(self.sweep)

    def target(self):
        mode = self.target_mode.currentText()
        if mode == "class":
            return self.target_class.index_value()
        return "least-likely" if mode == "least-likely" else None

    def refresh_now(self) -> None:
        """Attacks start from Run; nothing to recompute when the tab is shown."""

    # ------------------------------------------------------------------ attack
    def run_attack(self) -> None:
        model, image = self.state.job_model(), self.state.model_image()
        if model is None or image is None or not self.methods:
            return
        method = self.method.currentData()
        self._asked = (model, image, self.target())
        self.verdict.setText(f"running {self.methods[method].title} …")
        self.save_label.setText("")  # an earlier file's verdict is not this attack's
        self._handle = self.runner.submit(
            partial(attack_job, model, image, method, self.target(), self.form.values(),
                    source=self.state.target_class()),  # a detection / region: its class
            name=f"Attack: {self.methods[method].title}", key="attack",
            on_finished=self._on_attack, on_error=self.on_error,
            on_cancelled=lambda: self.verdict.setText("stopped"))

    def _on_attack(self, view) -> None:
        self.result = view
        self.result_model, self.result_image, self.result_goal = self._asked or (None,) * 3
        self.attacks.show()
        pair = view.clips or (view.original, view.adversarial)
        self.runner.submit(partial(cam_pair_job, self.state.job_model(), *pair),
                           name="Grad-CAM of both", key="attack-cams",
                           on_finished=self.attacks.show_cams, on_error=self.state.error)

    def last_attack(self):
        """``(AttackResult, model, input image, goal)`` of the attack on screen, or ``None``;
        the goal is what :meth:`target` asked for (``None``: untargeted)."""
        view = self.result
        if view is None or getattr(view, "attack", None) is None:
            return None
        return view.attack, self.result_model, self.result_image, self.result_goal

    def stop(self) -> None:
        self.runner.cancel(self._handle)

    def on_error(self, message: str) -> None:
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
            partial(save_and_check_job, self.state.job_model(), view.original, view.adversarial,
                    view.true_class, view.target, path),
            name="Save and re-check", key="attack-save",
            on_finished=partial(self._on_saved, path), on_error=self.state.error)
        return path

    def _on_saved(self, path, result) -> None:
        best, fools, linf = result
        stored = f"L∞ {linf:.1f}/255 as stored"
        if fools:
            self.save_label.setText(f"Saved {path} ({stored}); read back, it is still "
                                    f"{best.label} ({best.prob:.1%}): the attack survives 8 bits.")
            self.state.info(f"Saved {path}")
        else:
            self.save_label.setText(f"Saved {path} ({stored}), but read back it is "
                                    f"{best.label} again: rounding to 8 bits undid the attack — "
                                    "raise epsilon.")
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
        model, image = self.state.job_model(), self.state.model_image()
        if model is None or image is None or not self.methods:
            return
        method = self.method.currentData()
        self._handle = self.runner.submit(
            partial(sweep_job, model, image, method, self.eps_list(), self.target(),
                    self.form.values()),
            name=f"Epsilon sweep: {self.methods[method].title}", key="attack-sweep",
            on_finished=self._on_sweep, on_error=self.on_error)

    def _on_sweep(self, sweep) -> None:
        self.sweep = sweep
        self.sweeps.plot(sweep)
        self.show_sweep_point(len(sweep.eps) - 1)

    def show_sweep_point(self, index: int) -> None:
        sweep = self.sweep
        self.sweep_view.set_image(sweep.images[index])
        self.sweep_view.set_title(self.sweeps.title(sweep, index))

    # ------------------------------------------------------------------- patch
    def train_patch(self, folder: str | None = None) -> None:
        self.patches.train(folder)

    def paste_at(self, position) -> None:
        self.patches.paste_at(position)

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

    def demo(self) -> None:
        """For screenshots and lessons: PGD at 4/255."""
        self.method.setCurrentIndex(self.method.findData("pgd"))
        self.form.editors["eps"].setValue(4)
        self.run_attack()

    def caption(self) -> str:
        model, view = self.state.model, self.result
        if model is None or view is None:
            return ""
        params = ", ".join(f"{k}={v}" for k, v in self.form.values().items())
        return (f"{self.methods[view.method].title} on {self.state.input_name()}: "
                f"{view.before[0].label} → {view.after[0].label} (L∞ {view.linf * 255:.1f}/255, "
                f"L2 {view.l2:.3f}); {params}; {model.caption()}")
