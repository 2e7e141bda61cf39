"""Thumbnails of map points: a point's nearest neighbours or a lasso's selection, and the
hovered point's preview; thumbnails are read on the worker, one small job each."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from workbench.ui.tabs.embeddings.jobs import thumbnail_job
from workbench.ui.widgets.qt_images import icon_from_array

ROW_ROLE = Qt.ItemDataRole.UserRole
HINT = "Click a point for its neighbours; Shift-click twice to lasso."


class Gallery(QWidget):
    """``fill(data, indices, captions, title)``; double-click opens a point as an input."""

    def __init__(self, runner, open_item, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.data = None
        self.title = QLabel(HINT)
        self.title.setWordWrap(True)
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(72, 72))
        self.list.setGridSize(QSize(96, 112))
        self.list.setWordWrap(True)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMinimumHeight(120)
        self.list.setToolTip("double-click to open the image in the Inputs dock")
        self.list.itemDoubleClicked.connect(lambda item: open_item(item.data(ROW_ROLE)))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)

    def count(self) -> int:
        return self.list.count()

    def clear(self) -> None:
        """A new map: the old neighbours no longer belong to it."""
        self.list.clear()
        self.title.setText(HINT)

    def fill(self, data, indices, captions, title: str) -> None:
        self.data = data
        self.list.clear()
        self.title.setText(title)
        for index, caption in zip(indices, captions, strict=True):
            name = Path(data.names[int(index)]).name
            item = QListWidgetItem(f"{name}\n{caption}".strip())
            item.setData(ROW_ROLE, int(index))
            self.list.addItem(item)
            self.runner.submit(partial(thumbnail_job, data, int(index)), name="Thumbnail",
                               on_finished=partial(self._set_icon, item),
                               on_error=lambda _m: None)

    @staticmethod
    def _set_icon(item, result) -> None:
        try:
            item.setIcon(icon_from_array(result[1]))
        except RuntimeError:  # the gallery was refilled meanwhile
            pass
