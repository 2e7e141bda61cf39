"""The real main window, offscreen, for benchmarks that measure the GUI as a user meets it."""

from __future__ import annotations

import time


def open_window(files=None, tab: str | None = None):
    """``(app, window)`` with the model loaded and every startup job finished."""
    from workbench.ui.app import make_application
    from workbench.ui.qt_env import prepare_qt_environment

    prepare_qt_environment(offscreen=True)
    app = make_application()
    from workbench.io.samples import sample_path
    from workbench.ui.main_window import MainWindow
    from workbench.ui.screenshot import wait_until_settled

    window = MainWindow(files=files or [str(sample_path("chelsea"))], restore=False)
    window.resize(1300, 850)
    window.show()
    if tab:
        window.tabs.setCurrentIndex([p.title for p in window.panels].index(tab))
    wait_until_settled(app, window)
    return app, window


def panel(window, title: str):
    return next(p for p in window.panels if p.title == title)


def pump_until(app, condition, timeout_s: float = 600.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        app.processEvents()
        time.sleep(0.001)
