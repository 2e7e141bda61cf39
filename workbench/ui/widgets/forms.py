"""Small builders the tabs share: buttons that say what they do, pages of boxes stacked
from the top, splitters that never collapse a view, rows and columns without margins."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)


def button(text: str, tip: str, slot, name: str = "") -> QPushButton:
    """A push button with its tooltip, calling ``slot()`` when clicked."""
    widget = QPushButton(text)
    widget.setToolTip(tip)
    if name:
        widget.setObjectName(name)
    widget.clicked.connect(lambda _checked=False: slot())
    return widget


def tool_button(text: str, tip: str, slot) -> QToolButton:
    """A compact button (transport controls), with its tooltip."""
    widget = QToolButton()
    widget.setText(text)
    widget.setToolTip(tip)
    widget.clicked.connect(lambda _checked=False: slot())
    return widget


def stacked(*widgets: QWidget, margins: bool = False) -> QWidget:
    """``widgets`` one under the other from the top, the rest of the height left empty."""
    page = QWidget()
    layout = QVBoxLayout(page)
    if not margins:
        layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    return page


def split(vertical: bool, *parts: QWidget, stretch=()) -> QSplitter:
    """``parts`` side by side (or one above the other) with a handle between them that
    never collapses a part; ``stretch`` gives each part's share of extra room."""
    splitter = QSplitter(Qt.Orientation.Vertical if vertical else Qt.Orientation.Horizontal)
    for part in parts:
        splitter.addWidget(part)
    for index, share in enumerate(stretch):
        splitter.setStretchFactor(index, share)
    splitter.setChildrenCollapsible(False)
    return splitter


def column(*items) -> QWidget:
    """A widget holding ``items`` one under the other without margins; an item is a
    widget, a layout, or ``(widget, stretch)``."""
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    for item in items:
        if isinstance(item, tuple):
            layout.addWidget(*item)
        elif isinstance(item, QWidget):
            layout.addWidget(item)
        else:
            layout.addLayout(item)
    return page


def row(*widgets) -> QHBoxLayout:
    """Buttons (or any widgets) side by side; an item is a widget or ``(widget, stretch)``."""
    layout = QHBoxLayout()
    for item in widgets:
        layout.addWidget(*(item if isinstance(item, tuple) else (item,)))
    return layout


def form_box(title: str, *rows) -> QGroupBox:
    """A titled group of form rows: each row is ``(label, widget or layout)`` or a lone
    widget / layout spanning the row."""
    box = QGroupBox(title)
    form = QFormLayout(box)
    for item in rows:
        if isinstance(item, tuple):
            form.addRow(*item)
        else:
            form.addRow(item)
    box.form = form
    return box


class OnShow(QObject):
    """Calls ``callback`` when the watched widget is shown."""

    def __init__(self, callback):
        super().__init__()
        self.callback = callback

    def eventFilter(self, _watched, event):  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Show:
            self.callback()
        return False
