"""Environment every Qt entry point sets before importing PySide6 / pyqtgraph."""

from __future__ import annotations

import os


def prepare_qt_environment(offscreen: bool = False) -> None:
    """Pick PySide6 for pyqtgraph and, when asked, render offscreen (no screen needed)."""
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
