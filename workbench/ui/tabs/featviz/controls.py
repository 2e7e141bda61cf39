"""The Feature visualization tab's control column (unit, run, live settings) and its
dataset-examples page; :func:`build_controls` and :func:`build_gallery` put the widgets on
the panel as attributes."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.widgets.forms import button, row, stacked
from workbench.ui.widgets.image_view import ImageView
from workbench.ui.widgets.layer_combo import FEATURE_LAYERS, LayerCombo
from workbench.ui.widgets.param_form import ParamForm
from workbench.ui.widgets.target_picker import ClassChooser

OBJECTIVE_KINDS = ("channel", "neuron", "deepdream", "class logit", "class probability")
MAX_BATCH = 4
EXAMPLES = 9


def _spin(kind, tip: str, **limits):
    spin = kind(**limits)
    spin.setToolTip(tip)
    return spin


def build_controls(panel) -> QWidget:
    panel.kind = QComboBox()
    panel.kind.addItems(OBJECTIVE_KINDS)
    panel.kind.setToolTip("what the image is optimized to excite (Olah et al., Distill 2017)")
    panel.kind.currentTextChanged.connect(panel.on_kind)
    panel.layer = LayerCombo(FEATURE_LAYERS)
    panel.layer.currentIndexChanged.connect(lambda _i: panel.update_channel_range())
    panel.channel = _spin(QSpinBox, "the channel (feature map) of the layer", minimum=0,
                          maximum=0)
    panel.channel.setObjectName("channelSpin")
    panel.neuron_x = _spin(QSpinBox, "column of the neuron on the layer's grid", minimum=0,
                           maximum=512)
    panel.neuron_y = _spin(QSpinBox, "row of the neuron on the layer's grid", minimum=0,
                           maximum=512)
    panel.class_box = ClassChooser()
    panel.class_box.setToolTip("the class whose logit or probability is maximized")
    panel.negative = QCheckBox("Minimize instead")
    panel.negative.setToolTip("optimize for the opposite (the most negative activation)")
    panel.diversity = _spin(QDoubleSpinBox, "weight of the diversity term: the images of a "
                            "batch are pushed apart (needs more than one image)", minimum=0.0,
                            maximum=1000.0, value=0.0, singleStep=1.0)
    panel.batch = _spin(QSpinBox, "images optimized together", minimum=1, maximum=MAX_BATCH,
                        value=1)
    panel.size_spin = _spin(QSpinBox, "side of the optimized image", minimum=32, maximum=1024,
                            value=224, singleStep=32, suffix=" px")
    panel.steps = _spin(QSpinBox, "optimization steps", minimum=1, maximum=100_000, value=256)
    panel.seed = _spin(QSpinBox, "seed of the starting noise and the random transforms",
                       minimum=0, maximum=1_000_000, value=0)
    panel.start_from = QComboBox()
    panel.start_from.addItems(["noise", "current image"])
    panel.start_from.setToolTip("start from noise, or from the open image (DeepDream)")
    panel.live_form = ParamForm()  # filled once torch is loaded (the first model)
    panel.live_form.changed.connect(panel.push_live_config)
    panel.run_button = button("Run", "start optimizing", panel.run, "runFeatviz")
    panel.pause_button = button("Pause", "pause; Resume continues the same image",
                                 panel.toggle_pause)
    panel.stop_button = button("Stop", "stop; the last image stays", panel.stop)
    unit = QGroupBox("Unit")
    form = QFormLayout(unit)
    form.addRow("Objective", panel.kind)
    form.addRow("Layer", panel.layer)
    form.addRow("Channel", panel.channel)
    form.addRow("Neuron x, y", row(panel.neuron_x, panel.neuron_y))
    form.addRow("Class", panel.class_box)
    form.addRow(panel.negative)
    form.addRow(button("Show the layer's channels", "every channel of the layer on the open "
                        "image; click one to pick it", panel.show_channels))
    run = QGroupBox("Run")
    run_form = QFormLayout(run)
    for text, widget in (("Images", panel.batch), ("Diversity", panel.diversity),
                         ("Size", panel.size_spin), ("Steps", panel.steps),
                         ("Seed", panel.seed), ("Start from", panel.start_from)):
        run_form.addRow(text, widget)
    run_form.addRow(row(panel.run_button, panel.pause_button, panel.stop_button))
    live = QGroupBox("Live settings")
    live.setToolTip("changes apply at the next step, while the image forms")
    QVBoxLayout(live).addWidget(panel.live_form)
    return stacked(unit, run, live, margins=True)


def build_gallery(panel) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    buttons = row(QLabel("Rank"),
                  button("Opened inputs", "rank the images of the Inputs dock",
                         panel.examples_from_inputs),
                  button("Folder…", "rank the images of a folder",
                         lambda: panel.examples_from_folder()))
    buttons.addStretch(1)
    layout.addLayout(buttons)
    panel.examples_status = QLabel("The images (and crops) that excite the unit most.")
    panel.examples_status.setWordWrap(True)
    layout.addWidget(panel.examples_status)
    grid = QGridLayout()
    panel.optimized_view = ImageView(title="optimized")
    grid.addWidget(panel.optimized_view, 0, 0, 3, 1)
    panel.example_views = []
    for index in range(EXAMPLES):
        view = ImageView(title=" ")
        grid.addWidget(view, index // 3, 1 + index % 3)
        panel.example_views.append(view)
    for column in range(4):
        grid.setColumnStretch(column, 1)
    layout.addLayout(grid, 1)
    return page
