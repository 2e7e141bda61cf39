"""Start the GUI: QApplication, theme, error hooks, the main window."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

PROCESS_START = time.time()


def install_error_hooks(report) -> None:
    """Route uncaught exceptions from any thread to ``report(text)`` instead of dying."""
    from PySide6.QtCore import QObject, Signal

    class _Bridge(QObject):
        raised = Signal(str)

    bridge = _Bridge()
    bridge.raised.connect(report)
    install_error_hooks.bridge = bridge  # keep alive

    def text_of(exc_type, exc) -> str:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"Unexpected error: {exc_type.__name__}" + (f": {detail}" if detail else "")

    def hook(exc_type, exc, tb):
        logging.getLogger("workbench").error("uncaught", exc_info=(exc_type, exc, tb))
        bridge.raised.emit(text_of(exc_type, exc))

    def thread_hook(args):
        hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook


def make_application(argv=None):
    from workbench.ui.qt_env import prepare_qt_environment

    prepare_qt_environment()
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    qInstallMessageHandler(_qt_message)
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("Workbench")
    app.setOrganizationName("Workbench")
    return app


_QUIET_QT_MESSAGES = ("propagateSizeHints",)


def _qt_message(_mode, _context, message: str) -> None:
    """Drop the offscreen platform's harmless chatter; pass the rest to stderr."""
    if not any(text in message for text in _QUIET_QT_MESSAGES):
        print(message, file=sys.stderr)


def check_display() -> None:
    """Refuse to start an invisible window when there is no screen (and none was asked
    for), and name the missing system libraries before Qt would abort on them."""
    from workbench.errors import WorkbenchError
    from workbench.ui.qt_env import missing_xcb_libraries, uses_xcb

    if not os.environ.get("QT_QPA_PLATFORM") and sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise WorkbenchError(
            "no display found (DISPLAY is unset): run Workbench in a desktop session, under "
            "xvfb-run, or render the window to a file with 'workbench screenshot OUT.png'"
        )
    missing = missing_xcb_libraries() if uses_xcb() else {}
    if missing:
        raise WorkbenchError(
            f"Qt cannot open a window on X11 without {', '.join(missing)}; on Debian or "
            f"Ubuntu: sudo apt install {' '.join(missing.values())} ('workbench screenshot "
            "OUT.png' works without them)"
        )


def run_gui(files=None, model: str | None = None, tab: str | None = None,
            session: str | None = None) -> int:
    """Open the main window and run the event loop; returns the exit code."""
    check_display()
    app = make_application()
    from workbench.ui.main_window import MainWindow

    window = MainWindow(files=files, model=model, session=session)
    install_error_hooks(window.state.error)
    select_tab(window, tab)
    window.show()
    if os.environ.get("WORKBENCH_REPORT_STARTUP"):
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, lambda: print(f"window-shown {time.time():.6f}", flush=True))
    code = app.exec()
    from workbench.worker.runner import orphans_running

    if orphans_running():  # a job stuck in C++ (e.g. importing torch): do not wait for it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def select_tab(window, tab: str | None) -> None:
    from workbench.errors import WorkbenchError

    if not tab:
        return
    names = [window.tabs.tabText(i).lower() for i in range(window.tabs.count())]
    if tab.lower() not in names:
        raise WorkbenchError(f"No tab '{tab}'; tabs: {', '.join(names)}")
    window.tabs.setCurrentIndex(names.index(tab.lower()))
