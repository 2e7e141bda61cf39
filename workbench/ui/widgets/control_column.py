"""A tab's column of controls: it scrolls up and down only and is always as wide as its
contents (fonts change with the theme and presentation mode), so nothing in it is ever
cut or reachable only sideways."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QScrollArea, QStyle, QWidget

from workbench.ui.theme import theme_signals


class ControlColumn(QScrollArea):
    """Holds ``controls``; refits its width whenever their layout changes."""

    def __init__(self, controls: QWidget, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(controls)
        controls.installEventFilter(self)  # its layout changed (fonts, pages): refit
        theme_signals.changed.connect(self._later)
        self.fit()

    def eventFilter(self, watched, event):  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.LayoutRequest and watched is self.widget():
            self.fit()
        return super().eventFilter(watched, event)

    def showEvent(self, event):  # noqa: N802 - Qt override
        super().showEvent(event)
        self._later()  # fonts may have changed while this page was hidden

    def _later(self, *_args) -> None:
        QTimer.singleShot(0, self, self.fit)  # once the widgets have their new font

    def fit(self) -> None:
        """The column's width follows its contents."""
        contents = self.widget()
        if contents is None:
            return
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.setMinimumWidth(contents.minimumSizeHint().width() + bar
                             + 2 * self.frameWidth() + 8)
