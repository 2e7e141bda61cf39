"""The Lesson dock, on the right of the tabs (presentation mode hides only the left
docks): the lesson's title, its two or three sentences, the paper (a link that opens in
the browser), what the demonstration showed, and the lesson's further steps as buttons."""

from __future__ import annotations

from html import escape as html_escape

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

WIDTH_CHARS = 34


def escape(text: str) -> str:
    return html_escape(text, quote=False)


def wrapped(name: str) -> QLabel:
    label = QLabel("")
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    return label


class LessonDock(QDockWidget):
    """``show_lesson(lesson)``, ``show_result(html)``, ``add_step(text, slot)``."""

    def __init__(self, parent=None):
        super().__init__("Lesson", parent)
        self.setObjectName("LessonDock")
        self.lesson = None
        self.title = wrapped("lessonTitle")
        self.text = wrapped("lessonText")
        self.links = wrapped("lessonLinks")
        self.links.setOpenExternalLinks(True)
        self.result = wrapped("lessonResult")
        self.buttons: list[QPushButton] = []
        body = QWidget()
        self.column = QVBoxLayout(body)
        for label in (self.title, self.text, self.links, self.result):
            self.column.addWidget(label)
        self.steps_at = self.column.count()
        self.column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.setWidget(scroll)
        from workbench.ui.theme import theme_signals

        theme_signals.changed.connect(self._on_theme)

    def _on_theme(self, _theme) -> None:
        QTimer.singleShot(0, self, self.fit)  # once the new font has reached the labels
        self._show_links()

    def _show_links(self) -> None:
        """The papers, in the theme's link colour (rich text keeps the colour it was
        set with, so a theme switch sets them again)."""
        if self.lesson is None:
            return
        from PySide6.QtGui import QGuiApplication, QPalette

        color = QGuiApplication.palette().color(QPalette.ColorRole.Link).name()
        self.links.setText("<br>".join(f'<a href="{url}" style="color: {color}">'
                                       f"{escape(name)}</a>" for name, url in self.lesson.links))

    def fit(self) -> None:
        """As wide as its text needs in the current font (presentation mode's larger font
        widens it)."""
        window = self.parentWidget()
        if self.isVisible() and hasattr(window, "resizeDocks"):
            window.resizeDocks([self], [self.preferred_width()], Qt.Orientation.Horizontal)

    def preferred_width(self) -> int:
        """``WIDTH_CHARS`` characters, but never more than a quarter of the window: the
        tab beside it is what the audience looks at."""
        wanted = WIDTH_CHARS * self.fontMetrics().averageCharWidth() + 40
        window = self.parentWidget()
        return min(wanted, max(240, window.width() // 4)) if window is not None else wanted

    def show_lesson(self, lesson) -> None:
        self.lesson = lesson
        self.setWindowTitle(f"Lesson {lesson.number}")
        self.title.setText(f"<b>{lesson.number}. {escape(lesson.title)}</b>")
        self.text.setText(escape(lesson.text))
        self._show_links()
        self.links.setToolTip("opens the paper in the browser")
        self.show_result("<i>setting up …</i>")
        for button in self.buttons:
            self.column.removeWidget(button)
            button.hide()
            button.setParent(None)
            button.deleteLater()
        self.buttons = []
        self.show()
        self.raise_()

    def show_result(self, html: str) -> None:
        self.result.setText(html)

    def add_step(self, text: str, slot, tip: str = "") -> QPushButton:
        """A further step of the lesson (DeepDream next, train a new patch, …)."""
        button = QPushButton(text)
        button.setToolTip(tip or text)
        button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        button.clicked.connect(lambda *_: slot())
        self.column.insertWidget(self.steps_at + len(self.buttons), button)
        self.buttons.append(button)
        return button
