"""Pick a class: click one of the top-k predictions or search any label (:class:`TargetPicker`),
or type / choose one in a combo (:class:`ClassChooser`)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

CLASS_ROLE = Qt.ItemDataRole.UserRole


class TargetPicker(QWidget):
    """``target`` is ``None`` (follow the top-1 prediction) or a class index."""

    target_chosen = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.target: int | None = None
        self.labels: list[str] = []
        self.top_list = QListWidget()
        self.top_list.setObjectName("topkTargets")
        self.top_list.setMaximumHeight(130)
        self.top_list.itemClicked.connect(self._on_item)
        self.search = QLineEdit(placeholderText="search any class…")
        self.search.setToolTip("type part of a class name or its index, then Enter")
        self.search.setObjectName("classSearch")
        self.search.returnPressed.connect(self._on_search)
        self.auto = QPushButton("Follow top-1")
        self.auto.setToolTip("explain whatever class the model ranks first, for every image")
        self.auto.clicked.connect(lambda: self.choose(None))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.top_list)
        layout.addWidget(self.search)
        layout.addWidget(self.auto)

    def set_labels(self, labels: list[str]) -> None:
        self.labels = list(labels)
        completer = QCompleter([f"{i}: {label}" for i, label in enumerate(labels)], self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.activated.connect(lambda text: self._choose_text(text))
        self.search.setCompleter(completer)
        self.choose(None, emit=False)

    def show_top(self, scores) -> None:
        self.top_list.clear()
        for score in scores:
            item = QListWidgetItem(f"{score.label} · {score.prob:.1%}")
            item.setData(CLASS_ROLE, score.index)
            self.top_list.addItem(item)
            if score.index == self.target:
                item.setSelected(True)

    def choose(self, index: int | None, emit: bool = True) -> None:
        self.target = index
        self.auto.setEnabled(index is not None)
        self.auto.setText("Follow top-1" if index is not None else "Following top-1")
        if emit:
            self.target_chosen.emit(index)

    def _on_item(self, item: QListWidgetItem) -> None:
        self.choose(int(item.data(CLASS_ROLE)))

    def _on_search(self) -> None:
        self._choose_text(self.search.text())

    def _choose_text(self, text: str) -> None:
        head = text.split(":", 1)[0].strip()
        if head.isdigit() and int(head) < len(self.labels):
            self.choose(int(head))
            return
        matches = [i for i, label in enumerate(self.labels) if text.strip().lower() in
                   label.lower()]
        if matches:
            self.choose(matches[0])


class ClassChooser(QComboBox):
    """An editable combo of ``index: label`` with a contains-completer."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(12)

    def set_labels(self, labels) -> None:
        self.clear()
        entries = [f"{i}: {label}" for i, label in enumerate(labels)]
        self.addItems(entries)
        completer = QCompleter(entries, self)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setCompleter(completer)

    def index_value(self) -> int:
        head = self.currentText().split(":", 1)[0].strip()
        return int(head) if head.isdigit() else max(0, self.currentIndex())
