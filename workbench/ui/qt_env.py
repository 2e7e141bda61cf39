"""Environment every Qt entry point sets before importing PySide6 / pyqtgraph."""

from __future__ import annotations

import os
import sys


def prepare_qt_environment(offscreen: bool = False) -> None:
    """Pick PySide6 for pyqtgraph and, when asked, render offscreen (no screen needed)."""
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


# The X11 libraries Qt's xcb platform plugin links against (PySide6 6.11), with the
# Debian / Ubuntu package of each.  pip cannot install them; without one, Qt aborts the
# interpreter with a message about plugins, so the app checks first and says what to do.
XCB_LIBRARIES = {
    "libX11-xcb.so.1": "libx11-xcb1", "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0", "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1", "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libxkbcommon.so.0": "libxkbcommon0",
}


def missing_xcb_libraries() -> dict[str, str]:
    """``{soname: package}`` of the X11 libraries this system cannot load."""
    import ctypes

    missing = {}
    for soname, package in XCB_LIBRARIES.items():
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing[soname] = package
    return missing


def uses_xcb() -> bool:
    """True when Qt will open its windows through X11 (Linux, an X display, no Wayland)."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.startswith("xcb")
    return (sys.platform.startswith("linux") and bool(os.environ.get("DISPLAY"))
            and not os.environ.get("WAYLAND_DISPLAY"))
