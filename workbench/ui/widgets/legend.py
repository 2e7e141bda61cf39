"""The legend beside a map of classes (embeddings, the occlusion class map): outside the
data, scrollable, collapsible, in the theme's colours and font; hovering an entry shows
its full name.  Exports draw the same entries (``workbench.io.figure``)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.io.palette import palette_note
from workbench.ui.theme import theme_signals

INDEX_ROLE = Qt.ItemDataRole.UserRole


def swatch(color: str, side: int) -> QIcon:
    pixmap = QPixmap(side, side)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


class Legend(QWidget):
    """``set_entries([(index, name, colour, count or None), ...])``; emits
    ``entry_clicked(index)`` so a view can highlight that class."""

    entry_clicked = Signal(int)

    def __init__(self, title: str = "Legend", parent=None):
        super().__init__(parent)
        self.setObjectName("legend")
        self.title = title
        self.toggle = QToolButton()
        self.toggle.setCheckable(True)
        self.toggle.setChecked(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.toggle.setToolTip("show or hide the legend")
        self.toggle.toggled.connect(self._on_toggle)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.list.itemClicked.connect(lambda item: self.entry_clicked.emit(item.data(INDEX_ROLE)))
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toggle)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.note)
        self.entries: list[tuple[int, str, str, int | None]] = []
        self._note: str | None = None
        self.set_entries([])
        theme_signals.changed.connect(self._on_theme)

    def _on_theme(self, _theme) -> None:
        """Swatches as tall as the theme's text (presentation mode enlarges them)."""
        self.set_entries(self.entries, self._note)

    def set_entries(self, entries, note: str | None = None) -> None:
        self.entries, self._note = list(entries), note
        self.list.clear()
        side = max(10, round(0.75 * QFontMetrics(QApplication.font()).height()))  # as text
        self.list.setIconSize(QSize(side, side))
        for index, name, color, count in self.entries:
            text = f"{name} ({count})" if count is not None else str(name)
            item = QListWidgetItem(swatch(color, side), text)
            item.setToolTip(text)
            item.setData(INDEX_ROLE, index)
            self.list.addItem(item)
        self.toggle.setText(f"{self.title} ({len(self.entries)})")
        text = palette_note(len(self.entries)) if note is None else note
        self.note.setText(text)
        self.note.setVisible(bool(text) and self.toggle.isChecked())
        self.setVisible(bool(self.entries))

    def figure_entries(self):
        """The entries as ``(name, rgb)`` for :class:`workbench.io.figure.FigurePanel`."""
        from workbench.io.palette import hex_to_rgb

        return [(f"{name} ({count})" if count is not None else str(name), hex_to_rgb(color))
                for _index, name, color, count in self.entries]

    def _on_toggle(self, shown: bool) -> None:
        self.list.setVisible(shown)
        self.note.setVisible(shown and bool(self.note.text()))
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        metrics = self.fontMetrics()
        names = [metrics.horizontalAdvance(self.list.item(i).text())
                 for i in range(min(self.list.count(), 200))]
        width = max([metrics.horizontalAdvance(self.toggle.text()) + 40, *names, 80]) + 48
        return QSize(min(width, 28 * metrics.averageCharWidth()), 200)
