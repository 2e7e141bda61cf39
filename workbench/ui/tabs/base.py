"""What every task tab shares: compute only when visible, refresh when shown."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QScrollArea, QSplitter, QVBoxLayout, QWidget


class TaskPanel(QWidget):
    """A central tab.  Subclasses implement :meth:`refresh_now` and call
    :meth:`request_refresh` when their inputs change; hidden tabs wait until shown."""

    title = ""

    def __init__(self, state, runner, parent=None):
        super().__init__(parent)
        self.state, self.runner = state, runner
        self._dirty = False

    def request_refresh(self, *_args) -> None:
        if self.isVisible():
            self._dirty = False
            self.refresh_now()
        else:
            self._dirty = True

    def showEvent(self, event):  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._dirty:
            self._dirty = False
            QTimer.singleShot(0, self.refresh_now)

    def refresh_now(self) -> None:
        raise NotImplementedError

    def lay_out(self, views: QWidget, controls: QWidget, sizes=(650, 330)) -> QScrollArea:
        """The tab's layout: its views on the left, its controls in a scrolling column on
        the right, split by a handle the user can drag; returns the column."""
        column = QScrollArea()
        column.setWidgetResizable(True)
        column.setWidget(controls)
        column.setMinimumWidth(220)
        splitter = QSplitter()
        splitter.addWidget(views)
        splitter.addWidget(column)
        splitter.setSizes(list(sizes))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        return column

    def set_dark(self, dark: bool) -> None:
        """Re-style every pyqtgraph view and plot inside the panel for the theme."""
        import pyqtgraph as pg

        from workbench.ui.theme import style_plot

        for view in self.findChildren(pg.GraphicsView):
            style_plot(view, dark)

    def caption(self) -> str:
        return ""
