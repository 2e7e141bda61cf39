"""The main window's menu bar: File, Edit, View, Help and what later features add to them.

Each feature that brings its own menu entries has an ``install(window)`` function of its
own module, called from :func:`build_menus`; the window keeps only the actions it reads
back (``dark_action``, ``presentation_action``, ``caption_action``, ``samples_menu``).
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from workbench.ui import compute, sessions, shortcuts
from workbench.ui.lessons import menu as lessons_menu

LESSON_MODEL = "motion_3d"


def build_menus(window) -> None:
    """The window's menus, in the order a user reads them."""
    file_menu = window.menuBar().addMenu("&File")
    window.file_menu = file_menu
    add_action(window, file_menu, "&Open images…", window.open_images,
               QKeySequence.StandardKey.Open)
    add_action(window, file_menu, "Open &folder…", window.open_folder, "Ctrl+Shift+O")
    window.samples_menu = file_menu.addMenu("&Samples")
    fill_samples_menu(window)
    file_menu.addSeparator()
    add_action(window, file_menu, "&Export current view…", window.export_dialog, "Ctrl+E")
    add_action(window, file_menu, "&Report…", lambda: open_report(window), "Ctrl+Shift+R")
    window.caption_action = add_action(window, file_menu, "&Caption in exported figures",
                                       window._set_figure_captions, checkable=True)
    window.caption_action.setChecked(True)
    sessions.install(window)  # Save session / Open session / Recent sessions
    window.quit_separator = file_menu.addSeparator()
    add_action(window, file_menu, "&Quit", window.close, QKeySequence.StandardKey.Quit)
    edit = window.menuBar().addMenu("&Edit")
    add_action(window, edit, "&Paste image", window.inputs.paste)
    view = window.menuBar().addMenu("&View")
    window.view_menu = view
    window.dark_action = add_action(window, view, "&Dark theme", window._apply_theme,
                                    checkable=True)
    window.presentation_action = add_action(
        window, view, "&Presentation mode (large fonts, docks hidden)", window._apply_theme,
        "F11", checkable=True)
    view.addSeparator()
    view.addAction(window.inputs.toggleViewAction())
    view.addAction(window.model_dock.toggleViewAction())
    lessons_menu.install(window)  # the Lessons menu and the Lesson dock
    help_menu = window.menuBar().addMenu("&Help")
    window.help_menu = help_menu
    shortcuts.install(window)  # the Go menu, View → Freeze, Help → Shortcuts
    compute.install(window)  # Settings → Compute… (before Help) and the status bar's "where"
    add_action(window, help_menu, "&About Workbench", window.about)


def open_report(window) -> None:
    """File → Report… (the dialog's module imports the report core only when asked)."""
    from workbench.ui.report_dialog import open_report_dialog

    open_report_dialog(window)


def add_action(window, menu, text, slot, shortcut=None, checkable=False) -> QAction:
    """A menu entry calling ``slot()`` (without Qt's ``checked`` argument)."""
    action = QAction(text, window)
    action.setCheckable(checkable)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(lambda *_: slot())
    menu.addAction(action)
    return action


def fill_samples_menu(window) -> None:
    """Photos, video clips, the motion lesson and the digits."""
    from workbench.io.samples import SAMPLES, VIDEO_SAMPLES

    menu = window.samples_menu
    group = QActionGroup(window)
    for sample in SAMPLES:
        action = menu.addAction(f"{sample.name} — {sample.description}")
        action.triggered.connect(
            lambda *_, s=sample: window.inputs.add_paths([s.path()], select=True))
        group.addAction(action)
    menu.addSeparator()
    for clip in VIDEO_SAMPLES:
        action = menu.addAction(f"▶ {clip.name} — {clip.description}")
        action.triggered.connect(
            lambda *_, s=clip: window.inputs.add_paths([s.path()], select=True))
    lesson = menu.addAction(
        f"▶ Motion lesson — a digit moving right, down, left, up (with {LESSON_MODEL})")
    lesson.setToolTip("opens the clip, loads the 3D CNN and runs the Video tab; pick "
                      "motion_frame, motion_early, motion_late or motion_lstm in the "
                      "Model dock to compare")
    lesson.triggered.connect(lambda *_: window.open_motion_lesson())
    menu.addSeparator()
    menu.addAction("Digits (scikit-learn, for digits_lenet)").triggered.connect(
        window.open_digit_samples)
    menu.addAction("Digit scenes (for digits_detector and digits_segmenter)").triggered.connect(
        window.open_scene_samples)
