"""The Predict tab's controls for a detector: the score threshold (slider and spin box, kept
in step), a class filter, and the table of the detections shown (class, score, box in the
original picture's pixels); a row click picks that detection."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QGroupBox,
    QHeaderView,
    QLabel,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.tasks.names import DEFAULT_THRESHOLD
from workbench.ui.theme import font_px
from workbench.ui.widgets.forms import row
from workbench.ui.widgets.legend import swatch

ALL_CLASSES = -1
STEPS = 100  # slider positions per unit of score
COLUMNS = ("class", "score", "box x0, y0, x1, y1")


class DetectionControls(QWidget):
    """Emits ``filter_changed`` when the threshold or class changes and
    ``row_clicked(index)`` with an index into the shown detections."""

    filter_changed = Signal()
    row_clicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("scoreThresholdSlider")
        self.slider.setRange(0, STEPS)
        self.slider.setValue(round(DEFAULT_THRESHOLD * STEPS))
        self.slider.setToolTip("show detections scoring at least this")
        self.spin = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, decimals=2)
        self.spin.setObjectName("scoreThreshold")
        self.spin.setValue(DEFAULT_THRESHOLD)
        self.spin.setToolTip("show detections scoring at least this")
        self.slider.valueChanged.connect(lambda v: self.spin.setValue(v / STEPS))
        self.spin.valueChanged.connect(self._on_spin)
        self.classes = QComboBox()
        self.classes.setObjectName("detectionClassFilter")
        self.classes.setToolTip("show only the detections of one class")
        self.classes.currentIndexChanged.connect(lambda _i: self.filter_changed.emit())
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("detectionTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeaderItem(2).setToolTip("in the original picture's pixels")
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.cellClicked.connect(lambda r, _c: self.row_clicked.emit(r))
        self.count = QLabel("")
        self.count.setWordWrap(True)
        box = QGroupBox("Detections")
        layout = QVBoxLayout(box)
        layout.addLayout(row(QLabel("Score ≥"), (self.slider, 1), self.spin))
        layout.addLayout(row(QLabel("Class"), (self.classes, 1)))
        layout.addWidget(self.count)
        layout.addWidget(self.table, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(box, 1)

    def _on_spin(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(value * STEPS))
        self.slider.blockSignals(False)
        self.filter_changed.emit()

    def threshold(self) -> float:
        return float(self.spin.value())

    def set_threshold(self, value: float) -> None:
        self.spin.setValue(value)

    def chosen_class(self) -> int | None:
        """The class shown alone, or ``None`` for all."""
        value = self.classes.currentData()
        return None if value is None or value == ALL_CLASSES else int(value)

    def choose_class(self, index: int | None) -> None:
        found = self.classes.findData(ALL_CLASSES if index is None else index)
        self.classes.setCurrentIndex(max(0, found))

    def set_classes(self, names: list[str], present, colors) -> None:
        """The filter lists every class found at any score (keeping the choice if it can)."""
        keep = self.classes.currentData()
        self.classes.blockSignals(True)
        self.classes.clear()
        self.classes.addItem("all classes", ALL_CLASSES)
        for index in sorted(set(int(i) for i in present)):
            self.classes.addItem(swatch(colors[index], 12), names[index], index)
        found = self.classes.findData(keep)
        self.classes.setCurrentIndex(max(0, found))
        self.classes.blockSignals(False)

    def show_rows(self, rows: list[dict], colors, picked: int | None, total: int) -> None:
        """``rows`` from ``Detections.as_rows()`` (original pixels) of the shown ones."""
        self.table.setRowCount(len(rows))
        for r, det in enumerate(rows):
            name = QTableWidgetItem(swatch(colors[det["class"]], font_px(12)), det["label"])
            score = QTableWidgetItem(f"{det['score']:.3f}")
            box = QTableWidgetItem(", ".join(f"{det[k]:.0f}" for k in ("x0", "y0", "x1", "y1")))
            for c, item in enumerate((name, score, box)):
                self.table.setItem(r, c, item)
        self.select_row(picked)
        self._fit_width()
        hidden = total - len(rows)
        self.count.setText(f"{len(rows)} shown" + (f", {hidden} below the threshold or "
                                                   "filtered out" if hidden else ""))

    def _fit_width(self) -> None:
        """As wide as its columns, so that the control column never cuts one."""
        self.table.resizeColumnsToContents()
        bar = self.table.verticalScrollBar().sizeHint().width()
        self.table.setMinimumWidth(self.table.horizontalHeader().length() + bar
                                   + 2 * self.table.frameWidth())

    def select_row(self, index: int | None) -> None:
        self.table.blockSignals(True)
        self.table.clearSelection()
        if index is not None and 0 <= index < self.table.rowCount():
            self.table.selectRow(index)
        self.table.blockSignals(False)
