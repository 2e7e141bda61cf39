"""The Embeddings tab's control column: data and layer, map method, colouring, neighbours,
exports.  :func:`build_controls` puts the widgets on the panel as attributes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QWidget,
)

from workbench.ui.widgets.forms import button, row, stacked
from workbench.ui.widgets.layer_combo import FEATURE_LAYERS, LayerCombo
from workbench.ui.widgets.param_form import ParamForm
from workbench.ui.widgets.target_picker import ClassChooser

SOURCES = (("Opened inputs", "inputs", "the images in the Inputs dock"),
           ("Folder…", "folder", "a folder of images; subfolder names are the labels"),
           ("Video…", "video", "every k-th frame of a video"),
           ("scikit-learn digits", "digits", "1797 8×8 handwritten digits, labelled"))
COLOUR_BY = ("label", "predicted class", "probability of a class")


def build_controls(panel) -> QWidget:
    panel.source = QComboBox()
    for text, kind, tip in SOURCES:
        panel.source.addItem(text, kind)
        panel.source.setItemData(panel.source.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
    panel.source.setToolTip("the images whose features are mapped")
    panel.source.activated.connect(panel.on_source)
    panel.path_label = QLabel("")
    panel.path_label.setWordWrap(True)
    panel.every = QSpinBox(minimum=1, maximum=10_000, value=10, prefix="every ",
                           suffix=" frames")
    panel.every.setToolTip("take one frame out of this many")
    panel.every.setEnabled(False)
    panel.layer = LayerCombo(FEATURE_LAYERS)
    panel.layer.setToolTip("features are this layer's output, averaged over positions")
    panel.method = QComboBox()
    panel.method.setToolTip("how the features are mapped to 2-D")
    panel.method.currentIndexChanged.connect(panel.on_method)
    panel.form = ParamForm()
    panel.build_button = button("Build map", "extract the features and map them", panel.build,
                                 "buildMap")
    panel.stop_button = button("Stop", "stop building", lambda: panel.runner.cancel(
        panel._handle))
    panel.colour_by = QComboBox()
    panel.colour_by.addItems(COLOUR_BY)
    panel.colour_by.setToolTip("what the point colours show")
    panel.colour_by.currentTextChanged.connect(panel.recolour)
    panel.colour_class = ClassChooser()
    panel.colour_class.setToolTip("the class whose probability colours the points")
    panel.colour_class.currentIndexChanged.connect(lambda _i: panel.recolour())
    panel.k = QSpinBox(minimum=1, maximum=200, value=12)
    panel.k.setToolTip("how many neighbours to show")
    panel.metric_combo = QComboBox()
    panel.metric_combo.addItems(["cosine", "euclidean", "dot"])
    panel.metric_combo.setToolTip("distance between the original (not mapped) features")
    current = button("Current image", "the nearest neighbours of the image open in the "
                      "Inputs dock, and where it falls on the map", panel.neighbours_of_current)
    exports = QGridLayout()
    for number, (text, tip, slot) in enumerate((
            ("Figure…", "PNG or SVG of the map with title, legend and provenance",
             panel.export_figure),
            ("CSV…", "x, y, label and path of every point", panel.export_csv),
            ("Selection…", "the paths of the lassoed points, one per line",
             panel.export_selection))):
        export = button(text, tip, slot)
        if number == 0:
            panel.figure_button = export
        exports.addWidget(export, 0, number)
    data_box = QGroupBox("Data and layer")
    form = QFormLayout(data_box)
    form.addRow("Dataset", panel.source)
    form.addRow(panel.path_label)
    form.addRow("Video", panel.every)
    form.addRow("Layer", panel.layer)
    map_box = QGroupBox("Map")
    map_form = QFormLayout(map_box)
    map_form.addRow("Method", panel.method)
    map_form.addRow(panel.form)
    map_form.addRow(row(panel.build_button, panel.stop_button))
    map_form.addRow("Colour by", panel.colour_by)
    map_form.addRow("Class", panel.colour_class)
    knn_box = QGroupBox("Nearest neighbours")
    knn_box.setToolTip("neighbours in the original feature space, not on the map")
    knn = QFormLayout(knn_box)
    knn.addRow("Neighbours", panel.k)
    knn.addRow("Metric", panel.metric_combo)
    knn.addRow("Of", current)
    export_box = QGroupBox("Export")
    export_box.setLayout(exports)
    return stacked(data_box, map_box, knn_box, export_box, margins=True)
