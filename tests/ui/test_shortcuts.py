"""Help → Keyboard shortcuts lists the window's keys; the Go keys step tabs and inputs."""

from PySide6.QtCore import Qt

from workbench.io.samples import sample_path

TIMEOUT = 60_000


def test_help_lists_the_shortcuts_and_the_go_keys_work(qtbot, open_window):
    win = open_window()
    win.shortcuts_action.trigger()
    dialog = win.shortcuts_dialog
    rows = dialog.rows()
    actions = {what for _keys, what, _where in rows}
    assert {"Run", "Stop", "Export", "Next input", "Previous input", "Next tab",
            "Previous tab", "Freeze results", "Presentation mode"} <= actions
    run = next(row for row in rows if row[1] == "Run")
    assert run[0] == "Ctrl+Return" and "Attribution" in run[2]
    assert dialog.table.font().pointSizeF() == win.font().pointSizeF()
    dialog.close()

    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5_000)
    start = win.tabs.currentIndex()
    qtbot.keyClick(win, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    assert win.tabs.currentIndex() == start + 1
    qtbot.keyClick(win, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier)
    assert win.tabs.currentIndex() == start

    win.inputs.add_paths([str(sample_path("coffee"))])
    qtbot.waitUntil(lambda: win.inputs.list.count() == 2, timeout=TIMEOUT)
    assert win.inputs.list.currentRow() == 0
    qtbot.keyClick(win, Qt.Key.Key_PageDown, Qt.KeyboardModifier.AltModifier)
    assert win.inputs.list.currentRow() == 1
    qtbot.waitUntil(lambda: win.state.image_name.startswith("coffee"), timeout=TIMEOUT)
    qtbot.keyClick(win, Qt.Key.Key_BracketLeft, Qt.KeyboardModifier.ControlModifier)
    assert win.inputs.list.currentRow() == 0
    qtbot.waitUntil(win.is_settled, timeout=TIMEOUT)
