"""The Occlusion tab's paint mode: the canvas and the prediction chart (views), and the
tools, brush, fill and mask edits (controls)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.tabs.occlusion.mask_canvas import TOOLS, MaskCanvas
from workbench.ui.widgets.charts import DeltaChart
from workbench.ui.widgets.forms import column, split

FILL_CHOICES = ("grey", "mean", "blur", "noise", "black", "inpaint", "level")
FILL_TIPS = {"grey": "mid-grey (0.5)", "mean": "the image's mean colour",
             "blur": "a blurred copy of the image", "noise": "uniform noise",
             "black": "black (0)", "inpaint": "filled from the surrounding pixels",
             "level": "a grey level you choose"}
TOOL_TIPS = {"brush": "paint pixels to hide (wheel: brush size)", "eraser": "unhide pixels",
             "rectangle": "drag a rectangle to hide", "lasso": "draw a closed shape to hide",
             "superpixel": "click a region (SLIC superpixel) to hide or show it"}


class FillPicker(QWidget):
    """Fill mode, or a grey level when "level" is chosen."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.mode = QComboBox()
        for index, choice in enumerate(FILL_CHOICES):
            self.mode.addItem(choice)
            self.mode.setItemData(index, FILL_TIPS[choice], Qt.ItemDataRole.ToolTipRole)
        self.mode.setToolTip("what replaces the hidden pixels")
        self.level = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, value=0.5)
        self.level.setToolTip("grey level of the fill, 0 (black) … 1 (white)")
        self.level.setEnabled(False)
        self.mode.currentTextChanged.connect(lambda t: self.level.setEnabled(t == "level"))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.mode, 1)
        row.addWidget(self.level)

    def value(self):
        mode = self.mode.currentText()
        return float(self.level.value()) if mode == "level" else mode


class PaintPage:
    """Builds ``views`` (canvas | chart) and ``controls`` for the panel; ``panel`` gets the
    canvas, chart, brush, fill and tool buttons as attributes (tests drive them)."""

    def __init__(self, panel):
        self.panel = panel
        canvas = panel.canvas = MaskCanvas()
        canvas.mask_edited.connect(panel.predict_now)
        canvas.stroke_moved.connect(panel.predict_now)
        canvas.brush_size_changed.connect(lambda size: panel.brush.setValue(size))
        panel.chart = DeltaChart()
        panel.target_label = QLabel("")
        panel.target_label.setWordWrap(True)
        self.views = split(False, canvas, column(panel.target_label, (panel.chart, 1)),
                           stretch=(3, 2))
        self.controls = self._controls()

    def _controls(self) -> QWidget:
        panel, canvas = self.panel, self.panel.canvas
        tools = QHBoxLayout()
        panel.tool_buttons = QButtonGroup(panel)
        grid = QGridLayout()
        for number, tool in enumerate(TOOLS):
            button = QToolButton(text=tool.capitalize(), checkable=True)
            button.setObjectName(f"tool-{tool}")
            button.setToolTip(TOOL_TIPS[tool])
            button.setChecked(tool == "brush")
            button.clicked.connect(lambda _c=False, t=tool: setattr(canvas, "tool", t))
            panel.tool_buttons.addButton(button)
            grid.addWidget(button, number // 3, number % 3)
        tools.addLayout(grid)
        panel.brush = QSlider(minimum=1, maximum=200, value=canvas.brush_size)
        panel.brush.setOrientation(Qt.Orientation.Horizontal)
        panel.brush.setToolTip("brush diameter in model-input pixels (mouse wheel on the image)")
        panel.brush.valueChanged.connect(lambda v: setattr(canvas, "brush_size", v))
        panel.fill = FillPicker()
        panel.fill.mode.currentTextChanged.connect(panel.predict_now)
        panel.fill.level.valueChanged.connect(panel.predict_now)
        panel.show_model_view = QToolButton(text="Show what the model sees", checkable=True)
        panel.show_model_view.setToolTip("show the filled input instead of the mask overlay")
        panel.show_model_view.toggled.connect(panel.refresh_canvas_base)
        edits = QGridLayout()
        actions = (("Undo", canvas.undo, QKeySequence.StandardKey.Undo, "undo the last edit"),
                   ("Redo", canvas.redo, QKeySequence.StandardKey.Redo, "redo"),
                   ("Invert", canvas.invert, None, "hide what is shown and show what is hidden"),
                   ("Clear", canvas.clear, None, "show the whole image again"),
                   ("Save mask…", panel.save_mask, None, "save the mask as PNG (white = hidden)"),
                   ("Load mask…", panel.load_mask, None, "load a PNG mask (white = hidden)"))
        for number, (text, slot, keys, tip) in enumerate(actions):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(lambda _c=False, s=slot: s())
            edits.addWidget(button, number // 2, number % 2)
            if keys is not None:
                QShortcut(keys, panel, activated=slot, whatsThis=f"Mask: {text}")
        form = QFormLayout()
        form.addRow("Brush size", panel.brush)
        form.addRow("Fill", panel.fill)
        form.addRow(panel.show_model_view)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(tools)
        layout.addLayout(form)
        layout.addLayout(edits)
        layout.addStretch(1)
        return page
