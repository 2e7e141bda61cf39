"""The Adversarial tab's attack page: original | amplified perturbation | adversarial, with
their top classes, the verdict, and Grad-CAM of both (Goodfellow et al. 2014,
https://arxiv.org/abs/1412.6572)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from workbench.io.perturbation import amplify, perturbation_scale
from workbench.ui.widgets.forms import row, stacked
from workbench.ui.widgets.image_view import ImageView
from workbench.ui.widgets.overlay_view import OverlayView

READY = "Choose an attack and press Run."


def scores_text(scores, extra=None) -> str:
    lines = [f"{s.label} · {s.prob:.1%}" for s in scores]
    if extra is not None:
        lines.append(f"<i>target {extra.label} · {extra.prob:.1%}</i>")
    return "<br>".join(lines)


def steps_text(count: int) -> str:
    return f"{count} step" if count == 1 else f"{count} steps"


class AttackPage:
    """``views`` and ``controls`` of one attack; the widgets land on the panel, which
    runs the attack and hands its result to :meth:`show`."""

    def __init__(self, panel):
        self.panel = panel
        self.views = self._views()
        self.controls = self._controls()

    def _views(self) -> QWidget:
        panel = self.panel
        panel.original_view = ImageView(title="original")
        panel.noise_view = ImageView(title="perturbation")
        panel.adversarial_view = ImageView(title="adversarial")
        panel.captions = [QLabel(""), QLabel(""), QLabel("")]
        panel.cam_views = [OverlayView(title="Grad-CAM · original"),
                           OverlayView(title="Grad-CAM · adversarial")]
        panel.verdict = QLabel(READY)
        panel.verdict.setWordWrap(True)
        panel.verdict.setAlignment(Qt.AlignmentFlag.AlignCenter)
        grid = QGridLayout()
        for column, view in enumerate((panel.original_view, panel.noise_view,
                                       panel.adversarial_view)):
            grid.addWidget(view, 0, column)
            panel.captions[column].setAlignment(Qt.AlignmentFlag.AlignCenter)
            panel.captions[column].setWordWrap(True)
            grid.addWidget(panel.captions[column], 1, column)
            grid.setColumnStretch(column, 1)
        grid.setRowStretch(0, 3)
        grid.addWidget(panel.cam_views[0], 2, 0)
        grid.addWidget(panel.verdict, 2, 1)
        grid.addWidget(panel.cam_views[1], 2, 2)
        grid.setRowStretch(2, 2)
        page = QWidget()
        page.setLayout(grid)
        return page

    def _controls(self) -> QWidget:
        panel = self.panel
        panel.amplification = QSpinBox(minimum=1, maximum=500, value=30, prefix="× ")
        panel.amplification.setToolTip("how much the perturbation is magnified to be seen")
        panel.amplification.valueChanged.connect(lambda _v: self.show())
        panel.run_button = QPushButton("Run attack")
        panel.run_button.setObjectName("runAttack")
        panel.run_button.setToolTip("craft the adversarial image")
        panel.run_button.clicked.connect(panel.run_attack)
        panel.stop_button = QPushButton("Stop")
        panel.stop_button.setToolTip("stop the attack or the sweep")
        panel.stop_button.clicked.connect(panel.stop)
        save = QPushButton("Save adversarial PNG…")
        save.setToolTip("write the 8-bit PNG, read it back and classify it again")
        save.clicked.connect(lambda: panel.save_adversarial())
        panel.save_button = save
        embed = QPushButton("Show in the embedding map")
        embed.setToolTip("where the original and the adversarial image fall on the map")
        embed.clicked.connect(panel.show_in_embedding)
        panel.save_label = QLabel("")
        panel.save_label.setWordWrap(True)
        box = QGroupBox("Run")
        form = QFormLayout(box)
        form.addRow("Show noise", panel.amplification)
        form.addRow(row(panel.run_button, panel.stop_button))
        form.addRow(save)
        form.addRow(panel.save_label)
        form.addRow(embed)
        return stacked(box)

    def clear(self, image) -> None:
        """A new image: show it as the original and clear the last attack's results."""
        panel = self.panel
        panel.original_view.set_image(image)
        for view in (panel.noise_view, panel.adversarial_view, *panel.cam_views):
            view.set_image(None)
        panel.noise_view.set_title("perturbation")
        panel.noise_view.set_scale(None)
        for caption in panel.captions:
            caption.setText("")
        for view, which in zip(panel.cam_views, ("original", "adversarial"), strict=True):
            view.set_map(None)
            view.set_title(f"Grad-CAM · {which}")
        panel.save_label.setText("")
        panel.verdict.setText(READY if image is not None else "")

    def show(self) -> None:
        """The panel's result (an ``AttackView``): the three images and the verdict."""
        panel = self.panel
        view, model = panel.result, panel.state.job_model()
        if view is None or model is None:
            return
        panel.original_view.set_image(view.original)
        panel.adversarial_view.set_image(view.adversarial)
        factor = panel.amplification.value()
        panel.noise_view.set_image(amplify(view.perturbation, factor))
        panel.noise_view.set_scale(perturbation_scale(factor))
        panel.noise_view.set_title(f"perturbation × {factor} · L∞ {view.linf * 255:.2f}/255 · "
                                   f"L2 {view.l2:.3f}")
        target_before = view.extras.get("target_before")
        target_after = view.extras.get("target_after")
        panel.captions[0].setText(scores_text(view.before, target_before))
        panel.captions[2].setText(scores_text(view.after, target_after))
        panel.verdict.setText(self._verdict(view, model, target_before, target_after))

    def _verdict(self, view, model, target_before, target_after) -> str:
        if view.target is not None:
            goal = (f"target {model.label(view.target)}: {target_before.prob:.1%} → "
                    f"{target_after.prob:.1%}")
        else:
            goal = f"leave {model.label(view.true_class)}"
        outcome = "succeeded" if view.success else "failed"
        rounding = ("and still works after rounding to 8 bits" if view.quantized_fools else
                    f"but rounding to 8 bits undoes it (8-bit top-1: {view.quantized_top.label})")
        title = self.panel.methods[view.method].title
        return (f"<b>{title}</b> ({goal}) {outcome} in {steps_text(view.steps_run)} "
                + (rounding if view.success else ""))

    def show_cams(self, result) -> None:
        """Grad-CAM of the original and of the adversarial image, side by side."""
        maps, labels = result
        attack = self.panel.result
        for view, heat, picture, label, which in zip(
                self.panel.cam_views, maps, (attack.original, attack.adversarial), labels,
                ("original", "adversarial"), strict=True):
            view.set_image(picture)
            view.set_map(heat, units="attribution value")
            view.set_title(f"Grad-CAM · {which}: {label}")
