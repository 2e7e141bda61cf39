"""The Predict tab's controls for a segmenter: the class map's opacity, a legend of the
classes present (colour and share of the picture; a click picks that class's region) and
"Draw region…" to paint a region of one's own for the picked class."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGroupBox, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from workbench.ui.widgets.forms import row
from workbench.ui.widgets.legend import Legend

DEFAULT_OPACITY = 0.55


def share_text(share: float) -> str:
    """A share of the picture as a percentage ("< 0.1 %" for a sliver)."""
    return "< 0.1 %" if 0 < share < 0.001 else f"{share:.1%}".replace("%", " %")


class SegmentationControls(QWidget):
    """Emits ``opacity_changed(float)``, ``class_clicked(index)`` and ``draw_asked``."""

    opacity_changed = Signal(float)
    class_clicked = Signal(int)
    draw_asked = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setObjectName("classMapOpacity")
        self.opacity.setRange(0, 100)
        self.opacity.setValue(round(DEFAULT_OPACITY * 100))
        self.opacity.setToolTip("how strongly the class colours cover the picture")
        self.opacity.valueChanged.connect(lambda v: self.opacity_changed.emit(v / 100))
        self.legend = Legend("Classes present")
        self.legend.entry_clicked.connect(self.class_clicked.emit)
        self.hint = QLabel("Click a class in the picture or here to explain its region.")
        self.hint.setWordWrap(True)
        self.draw = QPushButton("Draw region…")
        self.draw.setObjectName("drawRegion")
        self.draw.setToolTip("paint the region to explain for the picked class")
        self.draw.clicked.connect(self.draw_asked.emit)
        box = QGroupBox("Segmentation")
        layout = QVBoxLayout(box)
        layout.addLayout(row(QLabel("Opacity"), (self.opacity, 1)))
        layout.addWidget(self.legend, 1)
        layout.addWidget(self.hint)
        layout.addWidget(self.draw)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(box, 1)

    def current_opacity(self) -> float:
        return self.opacity.value() / 100

    def show_shares(self, shares: dict[str, float], names: list[str], colors) -> None:
        """Legend entries for the present classes, largest share first."""
        entries = [(names.index(name), name, colors[names.index(name)], share_text(share))
                   for name, share in shares.items()]
        self.legend.set_entries(entries, note="")

    def select(self, index: int | None) -> None:
        lst = self.legend.list
        lst.blockSignals(True)
        lst.clearSelection()
        for r in range(lst.count()):
            if index is not None and lst.item(r).data(Qt.ItemDataRole.UserRole) == index:
                lst.item(r).setSelected(True)
        lst.blockSignals(False)
