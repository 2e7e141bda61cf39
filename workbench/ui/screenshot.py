"""``workbench screenshot``: build the real window offscreen, wait for its jobs, save a PNG."""

from __future__ import annotations

import time

from workbench.errors import WorkbenchError

SETTLE_TIMEOUT_S = 180.0


def wait_until_settled(app, window, timeout_s: float = SETTLE_TIMEOUT_S) -> None:
    """Process events until both runners are idle with a model and an image shown."""
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        app.processEvents()
        ready = window.is_settled()
        if ready:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > 0.3:
                return
        else:
            quiet_since = None
        time.sleep(0.01)
    raise WorkbenchError(f"the window did not finish its jobs within {timeout_s:.0f} s")


def run_lesson(app, window, key: str, timeout_s: float = SETTLE_TIMEOUT_S) -> None:
    """Open the lesson ``key`` and wait until it has set itself up and run."""
    from workbench.ui.lessons.catalogue import LESSONS

    if key not in {item.key for item in LESSONS}:
        raise WorkbenchError(f"no lesson {key!r}; the lessons are "
                             f"{', '.join(item.key for item in LESSONS)}")
    window.lessons.open(key)
    deadline = time.monotonic() + timeout_s
    dock = window.lessons.dock
    while time.monotonic() < deadline:
        app.processEvents()
        if "setting up" not in dock.result.text() and not window.lessons.steps._timers:
            break
        time.sleep(0.02)
    wait_until_settled(app, window, max(1.0, deadline - time.monotonic()))


def take_screenshot(out, files=None, tab=None, size=(1400, 860), model=None,
                    dark=False, run=False, presentation=False, lesson=None) -> list[str]:
    """Save the real main window as PNG; returns the error messages it showed."""
    from workbench.ui.app import make_application, select_tab
    from workbench.ui.qt_env import prepare_qt_environment

    prepare_qt_environment(offscreen=True)
    app = make_application()
    from workbench.io.atomic import write_bytes_atomic
    from workbench.ui.main_window import MainWindow

    window = MainWindow(files=files, model=model, restore=False)
    try:
        window.dark_action.setChecked(dark)
        window.presentation_action.setChecked(presentation)
        window._apply_theme()
        select_tab(window, tab)
        window.resize(*size)
        window.show()
        wait_until_settled(app, window)
        if run:  # the tab's own action, as a user pressing its Run button would
            demo = getattr(window.current_panel(), "demo", None)
            if demo is None:
                raise WorkbenchError(f"the {window.current_panel().title} tab has nothing to run")
            demo()
            wait_until_settled(app, window)
        if lesson:  # Lessons → that lesson, as a lecturer opening it
            run_lesson(app, window, lesson)
        for _ in range(5):
            app.processEvents()
        errors = [text for _, text, is_error in window.status.messages if is_error]
        from workbench.ui.widgets.qt_images import png_bytes

        write_bytes_atomic(out, png_bytes(window.grab()))
        return errors
    finally:
        window.close()
