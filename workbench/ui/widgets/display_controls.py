"""Colour map, opacity, threshold and raw / normalized switch for heat-map overlays."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget
from superqt import QLabeledDoubleSlider

from workbench.io.colormaps import COLORMAPS
from workbench.io.overlay import MIN_MAX, RAW
from workbench.ui.widgets.overlay_view import OverlayStyle


def _slider(value: float) -> QLabeledDoubleSlider:
    slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
    slider.setRange(0.0, 1.0)
    slider.setDecimals(2)
    slider.setSingleStep(0.05)
    slider.setValue(value)
    return slider


class DisplayControls(QWidget):
    """Emits ``changed(OverlayStyle)`` on every edit; nothing here triggers a recompute."""

    changed = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.colormap = QComboBox()
        self.colormap.addItems(COLORMAPS)
        self.colormap.setToolTip("colours of the map (perceptually uniform: inferno, viridis, "
                                 "magma)")
        self.opacity = _slider(0.5)
        self.opacity.setToolTip("how strongly the map covers the image (0: image only)")
        self.threshold = _slider(0.0)
        self.threshold.setToolTip("hide the map below this point of the colour bar (0…1)")
        self.scaling = QComboBox()
        self.scaling.addItem("min–max (0–1)", MIN_MAX)
        self.scaling.addItem("raw values", RAW)
        self.scaling.setToolTip("min–max: the map's lowest value is 0 and its highest 1 "
                                "(shape only)\nraw: the values themselves, from zero, in the "
                                "map's units")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for text, widget in (("Colour map", self.colormap), ("Opacity", self.opacity),
                             ("Threshold", self.threshold), ("Scale", self.scaling)):
            label = QLabel(text)
            label.setToolTip(widget.toolTip())
            form.addRow(label, widget)
        self.colormap.currentTextChanged.connect(self._emit)
        self.opacity.valueChanged.connect(self._emit)
        self.threshold.valueChanged.connect(self._emit)
        self.scaling.currentIndexChanged.connect(self._emit)

    def current_style(self) -> OverlayStyle:
        return OverlayStyle(self.colormap.currentText(), float(self.opacity.value()),
                            float(self.threshold.value()), self.scaling.currentData())

    def _emit(self, *_args) -> None:
        self.changed.emit(self.current_style())
