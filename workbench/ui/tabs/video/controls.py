"""The Video tab's control column: the video, which frames to analyse, how to combine them
over time, per-frame maps, exports.  :func:`build_controls` puts the widgets on the panel."""

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
    QWidget,
)

from workbench.ui.widgets.display_controls import DisplayControls
from workbench.ui.widgets.forms import button, form_box, row, stacked
from workbench.ui.widgets.layer_combo import LayerCombo
from workbench.ui.widgets.target_picker import ClassChooser

AGGREGATIONS = (("mean over all frames", "mean"), ("sliding window", "window"),
                ("moving average (EMA)", "ema"), ("majority vote", "vote"))
WEIGHTINGS = (("one per channel for the clip", "clip"),
              ("one per channel per time slice", "per-time"))
RANGES = (("each frame its own", "frame"), ("one for the whole video", "video"))


def _label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def build_controls(panel) -> QWidget:
    panel.about = _label("Open a video: File → Open, drag one in, or File → Samples.")
    video = QGroupBox("Video")
    QFormLayout(video).addRow(panel.about)
    panel.every = QSpinBox(minimum=1, maximum=100_000, value=12, prefix="every ",
                           suffix=" frames")
    panel.every.setToolTip("analyse one frame out of this many (default: about 2 a second)")
    panel.first = QSpinBox(minimum=0, maximum=0)
    panel.first.setToolTip("the first frame to analyse")
    panel.last = QSpinBox(minimum=0, maximum=0)
    panel.last.setToolTip("the last frame to analyse")
    panel.clip_step = QSpinBox(minimum=1, maximum=1000, value=1)
    panel.clip_step.setToolTip("a clip takes every k-th frame of the video (default: the "
                               "frame rate the model was trained at)")
    panel.clip_stride = QSpinBox(minimum=1, maximum=100_000, value=16, prefix="every ",
                                 suffix=" frames")
    panel.clip_stride.setToolTip("a new clip starts every this many frames (less than a "
                                 "clip's span: clips overlap)")
    panel.run_button = button("Run", "predict the sampled frames (batched on the worker)",
                              panel.run_predictions, "runVideo")
    panel.stop_button = button("Stop", "stop; the frames done so far stay", panel.stop)
    panel.status = _label("")
    analysis = QGroupBox("Frames")
    form = QFormLayout(analysis)
    form.addRow("Sample", panel.every)
    panel.clip_about = _label("")
    form.addRow(panel.clip_about)
    form.addRow("Frame step", panel.clip_step)
    form.addRow("New clip", panel.clip_stride)
    panel.frames_form = form
    form.addRow("Frames", row(panel.first, QLabel("to"), panel.last))
    form.addRow(row(panel.run_button, panel.stop_button))
    form.addRow(panel.status)
    panel.class_boxes = (_time_box(panel), _maps_box(panel), _moments_box(panel),
                         _export_box(panel))  # hidden for a detector or a segmenter
    return stacked(video, analysis, panel.dense.box, *panel.class_boxes, margins=True)


FILLS = (("the clip's mean frame", "mean"), ("the frame before, frozen", "freeze"),
         ("grey", "grey"))


def _moments_box(panel) -> QGroupBox:
    """Temporal occlusion of the clip at the current position."""
    panel.hide_window = QSpinBox(minimum=1, maximum=64, value=2, suffix=" frames")
    panel.hide_window.setToolTip("how many frames in a row are hidden at a time")
    panel.hide_fill = QComboBox()
    for text, name in FILLS:
        panel.hide_fill.addItem(text, name)
    panel.hide_fill.setToolTip("what the hidden frames are replaced with")
    panel.hide_frames = QSpinBox(minimum=2, maximum=256, value=16, suffix=" frames")
    panel.hide_frames.setToolTip("image models: how many sampled frames, from the current "
                                 "one, are averaged (a clip model takes its own clip)")
    panel.hide_button = button("Hide frames", "slide a window of hidden frames over the clip "
                               "at the current position: how much the class's probability "
                               "drops, drawn on the timeline", panel.run_moments,
                               "runVideoMoments")
    panel.moments = _label("")
    return form_box("Which moments matter", ("Hide", panel.hide_window),
                    ("With", panel.hide_fill), ("Average", panel.hide_frames),
                    panel.hide_button, panel.moments)


def _time_box(panel) -> QGroupBox:
    panel.aggregation = QComboBox()
    for text, name in AGGREGATIONS:
        panel.aggregation.addItem(text, name)
    panel.aggregation.setToolTip("how the frames' predictions combine into the video's")
    panel.aggregation.currentIndexChanged.connect(panel.on_aggregation)
    panel.window_size = QSpinBox(minimum=1, maximum=999, value=5, suffix=" frames")
    panel.window_size.setToolTip("sliding window: the sampled frames averaged around each one")
    panel.window_size.valueChanged.connect(panel.on_aggregation)
    panel.alpha = QDoubleSpinBox(minimum=0.01, maximum=1.0, value=0.3, singleStep=0.05)
    panel.alpha.setToolTip("EMA: s = α·p + (1 − α)·s_previous (1: no smoothing)")
    panel.alpha.valueChanged.connect(panel.on_aggregation)
    panel.extra_class = ClassChooser()
    panel.extra_class.setToolTip("a class to follow on the timeline too")
    add = button("Add", "follow this class on the timeline as well", panel.add_class)
    panel.video_top = _label("")
    panel.formula = _label("")
    panel.now = _label("")
    return form_box("Over time", ("Combine", panel.aggregation),
                    ("Window", panel.window_size), ("α", panel.alpha),
                    ("Follow", row((panel.extra_class, 1), add)), panel.video_top,
                    panel.formula, panel.now)


def _maps_box(panel) -> QGroupBox:
    panel.method = QComboBox()
    panel.method.setToolTip("the Attribution method computed on each sampled frame")
    panel.layer = LayerCombo()
    panel.map_range = QComboBox()
    for text, name in RANGES:
        panel.map_range.addItem(text, name)
    panel.map_range.setToolTip("each frame its own: every map shows its own shape; the whole "
                               "video: one colour range, so intensity compares over time")
    panel.map_range.currentIndexChanged.connect(lambda _i: panel.show_map())
    panel.display = DisplayControls()
    panel.display.changed.connect(lambda _s: panel.show_map())
    panel.method.currentIndexChanged.connect(panel.on_method)
    panel.weighting = QComboBox()
    for text, name in WEIGHTINGS:
        panel.weighting.addItem(text, name)
    panel.weighting.setToolTip("clip models: Grad-CAM's channel weights for the whole clip "
                               "(as pytorch-grad-cam) or for each time slice (as SlowFast)")
    panel.weighting.setEnabled(False)
    panel.map_target = ClassChooser()
    panel.map_target.setToolTip("the class the maps explain, when not each frame's own top-1")
    panel.each_top1 = QCheckBox("Each frame's top-1")
    panel.each_top1.setChecked(True)
    panel.each_top1.setToolTip("explain whatever class the model ranks first in each frame")
    panel.each_top1.toggled.connect(lambda on: panel.map_target.setEnabled(not on))
    panel.map_target.setEnabled(False)
    panel.maps_button = button("Compute maps", "a map for every sampled frame, played with "
                               "the video", panel.run_maps, "runVideoMaps")
    box = QGroupBox("Maps")
    form = QFormLayout(box)
    form.addRow("Method", panel.method)
    form.addRow("Layer", panel.layer)
    form.addRow("Weights", panel.weighting)
    panel.maps_form = form
    form.addRow("Class", panel.each_top1)
    form.addRow("", panel.map_target)
    form.addRow("Range", panel.map_range)
    form.addRow(panel.display)
    form.addRow(panel.maps_button)
    return box


def _export_box(panel) -> QGroupBox:
    box = QGroupBox("Export")
    grid = QGridLayout(box)
    panel.with_timeline = QCheckBox("Video with the timeline under it")
    panel.with_timeline.setToolTip("the exported video shows the timeline, its cursor moving")
    grid.addWidget(panel.with_timeline, 3, 0, 1, 2)
    actions = (("Timeline…", "the timeline as PNG / SVG with title and provenance",
                panel.export_timeline),
               ("Video…", "the annotated video (MP4 or GIF): labels, map, time",
                panel.export_video),
               ("Probabilities…", "per-frame probabilities as CSV or NPZ",
                panel.export_probabilities),
               ("Maps…", "per-frame maps as (T, H, W) float32 .npy", panel.export_maps),
               ("Frame to Inputs", "this frame as an image every other tab can use",
                panel.frame_to_inputs))
    for number, (text, tip, slot) in enumerate(actions):
        widget = button(text, tip, slot)
        if number == 0:
            panel.timeline_button = widget
        grid.addWidget(widget, number // 2, number % 2)
    return box
