"""The *Lessons* menu (between View and Help): one entry per lesson of
:mod:`workbench.ui.lessons.catalogue`; ``install(window)`` adds it, the Lesson dock on
the right and ``window.lessons`` (the :class:`Lessons` that opens them)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from workbench.ui.lessons.dock import LessonDock
from workbench.ui.lessons.driver import Steps


class Lessons:
    """Opens lessons: the dock shows the explanation, ``steps`` drives the window;
    ``outcome`` keeps what the last lesson computed itself (for tests and figures)."""

    def __init__(self, window):
        self.window = window
        self.dock = LessonDock(window)
        self.steps = Steps(window)
        self.current = None
        self.outcome = None

    def open(self, key: str) -> None:
        from workbench.ui.lessons.catalogue import lesson

        self.steps.cancel()
        self.current, self.outcome = lesson(key), None
        self.dock.show_lesson(self.current)
        self.dock.fit()
        self.current.setup(self, dict(self.current.params))

    def result(self, html: str) -> None:
        self.dock.show_result(html)


def install(window) -> None:
    """The Lessons menu and its dock (hidden until a lesson opens)."""
    from workbench.ui.lessons.catalogue import LESSONS

    window.lessons = Lessons(window)
    dock = window.lessons.dock
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.hide()
    menu = window.menuBar().addMenu("&Lessons")
    window.lessons_menu = menu
    for item in LESSONS:
        action = menu.addAction(f"&{item.number}. {item.title}" if item.number < 10
                                else f"{item.number}. {item.title}")
        action.setToolTip(item.text)
        action.triggered.connect(lambda *_, key=item.key: window.lessons.open(key))
    menu.addSeparator()
    menu.addAction(dock.toggleViewAction())
