"""Asks what a bare state dict belongs to: architecture, classes, labels, input size, and
for a trusted pickled model the folder of the code that defines its class."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

COMMON_ARCHS = ("resnet18", "resnet34", "resnet50", "resnext50_32x4d", "vgg16", "vit_b_16",
                "mobilenet_v3_large", "efficientnet_b0", "convnext_tiny", "densenet121")


class CheckpointDialog(QDialog):
    """A small form; :meth:`options` returns a ``CheckpointOptions``."""

    def __init__(self, path: str, reason: str, archs=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Open {Path(path).name}")
        self.arch = QComboBox()
        self.arch.setEditable(True)
        self.arch.addItems(sorted(set(archs or COMMON_ARCHS)))
        self.arch.setCurrentText("resnet18")
        self.classes = QSpinBox(minimum=0, maximum=100_000, value=0, specialValueText="from file")
        self.size_spin = QSpinBox(minimum=16, maximum=1024, value=224, suffix=" px")
        self.labels = QLineEdit(placeholderText="optional: one label per line")
        labels_row = field_with_browse(self.labels, self._browse)
        self.code = QLineEdit(placeholderText="optional: folder defining a pickled model's class")
        self.code.setToolTip("added to the import path only for a file you chose to trust")
        code_row = field_with_browse(self.code, self._browse_code)
        form = QFormLayout(self)
        note = QLabel(reason)
        note.setWordWrap(True)
        form.addRow(note)
        form.addRow("Architecture", self.arch)
        form.addRow("Classes", self.classes)
        form.addRow("Labels file", labels_row)
        form.addRow("Input size", self.size_spin)
        form.addRow("Code folder", code_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Labels file", "", "Text (*.txt);;All (*)")
        if path:
            self.labels.setText(path)

    def _browse_code(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder with the model's code")
        if path:
            self.code.setText(path)

    def options(self):
        from workbench.core.models.checkpoint import CheckpointOptions

        return CheckpointOptions(
            arch=self.arch.currentText().strip() or None,
            num_classes=self.classes.value() or None,
            labels_file=self.labels.text().strip() or None,
            input_size=self.size_spin.value(),
            code=self.code.text().strip() or None,
        )


def field_with_browse(field: QLineEdit, browse) -> QWidget:
    """A text field with a "…" button beside it that calls ``browse()``."""
    button = QPushButton("…")
    button.clicked.connect(lambda *_: browse())
    row_widget = QWidget()
    row = QHBoxLayout(row_widget)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(field)
    row.addWidget(button)
    return row_widget
