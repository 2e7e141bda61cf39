"""Pick a layer of the loaded model: ``name ★ (channels×grid)``, filtered to what the tab
can use.  Each tab keeps its own choice; the Model dock shows (and sets) the choice of
the tab in front."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox

GRID_LAYERS = "grid"  # maps and channel pictures: channels-first, channels-last or tokens
FEATURE_LAYERS = "features"  # anything that pools to a vector (a known layout)


def usable(info, kind: str) -> bool:
    if kind == GRID_LAYERS:
        return info.has_grid
    return info.layout is not None


class LayerCombo(QComboBox):
    """Emits ``layer_chosen(name)`` when the user picks a layer (not when set by code)."""

    layer_chosen = Signal(str)

    def __init__(self, kind: str = GRID_LAYERS, parent=None):
        super().__init__(parent)
        self.kind = kind
        self.setObjectName("layerCombo")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(12)
        self.setToolTip("the layer whose output the method reads (★: the model's default)")
        self.activated.connect(lambda _i: self.layer_chosen.emit(self.currentData() or ""))

    def set_model(self, model, default: str | None = None) -> None:
        self.blockSignals(True)
        self.clear()
        if model is not None:
            for info in model.layers:
                if usable(info, self.kind):
                    star = "  ★" if info.name == model.default_cam_layer else ""
                    self.addItem(f"{info.name}{star}  ({info.shape_text()})", info.name)
            self.choose(default or model.default_cam_layer)
        self.blockSignals(False)

    def layer(self) -> str | None:
        return self.currentData() if self.isEnabled() else None

    def choose(self, name: str | None) -> bool:
        """Select ``name``; ``True`` if that changed the choice."""
        index = self.findData(name)
        if index < 0 or index == self.currentIndex():
            return False
        self.setCurrentIndex(index)
        return True
