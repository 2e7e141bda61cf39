"""Paint the region a segmentation target covers, over the model input (the Occlusion tab's
mask canvas: brush, eraser, rectangle, lasso, undo), starting from the class's predicted
region."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from workbench.ui.tabs.occlusion.mask_canvas import MaskCanvas
from workbench.ui.widgets.forms import row

DRAW_TOOLS = ("brush", "eraser", "rectangle", "lasso")


class RegionDialog(QDialog):
    """``RegionDialog(picture, mask, class_name)``; after ``exec()``, :meth:`region` is the
    painted region ``(h, w)`` bool at the model input's size."""

    def __init__(self, picture: np.ndarray, mask: np.ndarray, class_name: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Region of {class_name}")
        self.canvas = MaskCanvas()
        self.canvas.set_base(picture, keep_mask=False)
        self.canvas.set_mask(np.asarray(mask, bool), record=False)
        self.canvas.setMinimumSize(360, 300)
        self.canvas.set_title(f"paint the region of “{class_name}” to explain")
        tools = QButtonGroup(self)
        buttons = []
        for name in DRAW_TOOLS:
            button = QPushButton(name.capitalize())
            button.setCheckable(True)
            button.setChecked(name == self.canvas.tool)
            button.clicked.connect(lambda _c=False, n=name: setattr(self.canvas, "tool", n))
            tools.addButton(button)
            buttons.append(button)
        size = QSpinBox(minimum=1, maximum=200, value=max(2, picture.shape[1] // 16),
                        suffix=" px")
        size.setToolTip("brush diameter in model-input pixels (the mouse wheel changes it)")
        size.valueChanged.connect(lambda v: setattr(self.canvas, "brush_size", v))
        self.canvas.brush_size = size.value()
        self.canvas.brush_size_changed.connect(size.setValue)
        undo, clear = QPushButton("Undo"), QPushButton("Clear")
        undo.clicked.connect(self.canvas.undo)
        clear.clicked.connect(self.canvas.clear)
        self.count = QLabel("")
        self.canvas.mask_edited.connect(self._count)
        self._count()
        done = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                | QDialogButtonBox.StandardButton.Cancel)
        done.accepted.connect(self.accept)
        done.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(row(*buttons))
        layout.addLayout(row(QLabel("Brush"), size, undo, clear, (self.count, 1)))
        layout.addWidget(done)
        self.resize(560, 520)

    def _count(self) -> None:
        self.count.setText(f"{int(self.canvas.mask.sum())} pixels")

    def region(self) -> np.ndarray:
        return self.canvas.mask.copy()
