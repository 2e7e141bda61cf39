"""The Model dock's "Score output" row: for a network whose forward returns a tuple, a dict
or an object with several ``(N, K)`` parts, which one is the score.

The choice is remembered per model spec in the settings file and passed as
``CheckpointOptions.output`` at the next load of that model.
"""

from __future__ import annotations

from urllib.parse import quote

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from workbench.ui.settings import open_settings

SHAPES_KEY = "output_shapes"  # in LoadedModel.extras (set when the model is wrapped)


def _key(spec: str) -> str:
    return "model_outputs/" + quote(spec, safe="")  # a path's slashes are not groups


def remembered_output(spec: str) -> str | None:
    """The output chosen for ``spec`` last time, if any."""
    value = open_settings().value(_key(spec))
    return str(value) if value else None


def remember_output(spec: str, output: str | None) -> None:
    settings = open_settings()
    if output:
        settings.setValue(_key(spec), output)
    else:
        settings.remove(_key(spec))
    settings.sync()


class OutputPicker(QWidget):
    """``Score output: [combo]``, shown only for a model with more than one candidate."""

    chosen = Signal(str)  # the candidate the user picked (not the one already in use)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setObjectName("outputCombo")
        self.combo.setToolTip("which output of the model's forward is the class score")
        self.combo.activated.connect(self._on_activated)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Score output:"))
        layout.addWidget(self.combo, 1)
        self._current: str | None = None
        self.hide()

    def show_model(self, model) -> None:
        candidates = list(model.output_candidates) if model is not None else []
        self.combo.clear()
        self._current = model.output if model is not None else None
        if len(candidates) < 2:
            self.hide()
            return
        shapes = model.extras.get(SHAPES_KEY, {})
        for name in candidates:
            shape = shapes.get(name)
            self.combo.addItem(f"{name}  ({shape} classes)" if shape else name, name)
        self.combo.setCurrentIndex(max(0, self.combo.findData(model.output)))
        self.show()

    def _on_activated(self, index: int) -> None:
        name = self.combo.itemData(index)
        if name and name != self._current:
            self.chosen.emit(name)
