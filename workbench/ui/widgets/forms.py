"""Small builders every control column uses: a button that says what it does, and a page
of boxes stacked from the top."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QToolButton, QVBoxLayout, QWidget


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
