"""Colour map, opacity, threshold and raw / normalized switch for heat-map overlays."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QWidget
from superqt import QLabeledDoubleSlider

from workbench.io.colormaps import COLORMAPS
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
        self.opacity = _slider(0.5)
        self.threshold = _slider(0.0)
        self.normalized = QCheckBox("normalized (min–max)")
        self.normalized.setChecked(True)
        self.normalized.setToolTip("off: raw values divided by the largest one, zero stays zero")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Colour map", self.colormap)
        form.addRow("Opacity", self.opacity)
        form.addRow("Threshold", self.threshold)
        form.addRow("", self.normalized)
        self.colormap.currentTextChanged.connect(self._emit)
        self.opacity.valueChanged.connect(self._emit)
        self.threshold.valueChanged.connect(self._emit)
        self.normalized.toggled.connect(self._emit)

    def current_style(self) -> OverlayStyle:
        return OverlayStyle(self.colormap.currentText(), float(self.opacity.value()),
                            float(self.threshold.value()), self.normalized.isChecked())

    def _emit(self, *_args) -> None:
        self.changed.emit(self.current_style())
