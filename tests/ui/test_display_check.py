"""Before Qt starts: no display, or an X11 system without the libraries Qt's xcb plugin
needs, is one clear message instead of Qt aborting the interpreter."""

import pytest

from workbench.errors import WorkbenchError
from workbench.ui import qt_env
from workbench.ui.app import check_display


@pytest.fixture
def x11(monkeypatch):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(qt_env.sys, "platform", "linux")


def test_no_display_says_so(monkeypatch, x11):
    monkeypatch.delenv("DISPLAY")
    with pytest.raises(WorkbenchError, match="no display found"):
        check_display()


def test_missing_x11_libraries_are_named_with_their_packages(monkeypatch, x11):
    monkeypatch.setattr(qt_env, "XCB_LIBRARIES", {
        "libworkbench-not-there.so.9": "workbench-missing9", "libc.so.6": "libc6"})
    with pytest.raises(WorkbenchError) as error:
        check_display()
    message = str(error.value)
    assert "libworkbench-not-there.so.9" in message and "apt install workbench-missing9" in message
    assert "libc" not in message  # present libraries are not listed
    assert "\n" not in message


def test_offscreen_and_wayland_do_not_need_x11(monkeypatch, x11):
    monkeypatch.setattr(qt_env, "XCB_LIBRARIES", {"libworkbench-not-there.so.9": "x"})
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    check_display()
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    check_display()
