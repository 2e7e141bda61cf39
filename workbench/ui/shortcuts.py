"""Keys for a lecture: the next / previous input and tab (a *Go* menu), *View → Freeze
results*, and *Help → Keyboard shortcuts*, a table read from the window itself — every
``QAction`` with a shortcut and every ``QShortcut`` (each tab's Run / Stop / Export, the
video player's keys …) — so it never goes stale.  A ``QShortcut`` names what it does in
its ``whatsThis``; where it works is the tab or dock that holds it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QHeaderView,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from workbench.ui import freeze

NEXT_INPUT_KEYS = ("Alt+PgDown", "Ctrl+]")
PREVIOUS_INPUT_KEYS = ("Alt+PgUp", "Ctrl+[")
NEXT_TAB_KEYS = ("Ctrl+PgDown", "Ctrl+Tab")
PREVIOUS_TAB_KEYS = ("Ctrl+PgUp", "Ctrl+Shift+Tab")
HELP_KEYS = "F1"


def _action(window, menu, text: str, slot, keys) -> QAction:
    action = QAction(text, window)
    action.setShortcuts([QKeySequence(k) for k in keys])
    action.triggered.connect(lambda *_: slot())
    menu.addAction(action)
    return action


def install(window) -> None:
    """The Go menu (before Help), View → Freeze results, Help → Keyboard shortcuts."""
    freeze.install(window)
    go = QMenu("&Go", window)
    window.menuBar().insertMenu(window.help_menu.menuAction(), go)
    window.go_menu = go
    _action(window, go, "&Next input", lambda: step_input(window, 1), NEXT_INPUT_KEYS)
    _action(window, go, "&Previous input", lambda: step_input(window, -1), PREVIOUS_INPUT_KEYS)
    go.addSeparator()
    _action(window, go, "Next &tab", lambda: step_tab(window, 1), NEXT_TAB_KEYS)
    _action(window, go, "Previous t&ab", lambda: step_tab(window, -1), PREVIOUS_TAB_KEYS)
    window.shortcuts_action = _action(window, window.help_menu, "&Keyboard shortcuts…",
                                      lambda: show_shortcuts(window), (HELP_KEYS,))


def step_input(window, step: int) -> None:
    """Select the next (``step`` 1) or previous (−1) input of the Inputs dock."""
    inputs = window.inputs.list
    if inputs.count() == 0:
        return
    row = min(max(inputs.currentRow() + step, 0), inputs.count() - 1)
    if row != inputs.currentRow():
        inputs.setCurrentRow(row)


def step_tab(window, step: int) -> None:
    """The next or previous task tab (round the end)."""
    tabs = window.tabs
    if tabs.count():
        tabs.setCurrentIndex((tabs.currentIndex() + step) % tabs.count())


# ----------------------------------------------------------------------- the table
def _plain(text: str) -> str:
    """A menu entry's text without its mnemonic, dots and explanation in brackets."""
    text = text.replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.split(" (")[0].rstrip("…").strip()


def _keys(sequences) -> str:
    return ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in sequences
                     if not s.isEmpty())


def _where_action(action: QAction) -> str:
    menus = [_plain(m.title()) for m in action.associatedObjects() if isinstance(m, QMenu)]
    return " / ".join(f"{m} menu" for m in menus if m) or "window"


def _where_widget(widget) -> str:
    """The tab or dock holding ``widget``."""
    from workbench.ui.tabs.base import TaskPanel

    while widget is not None:
        if isinstance(widget, TaskPanel):
            return widget.title
        if isinstance(widget, QDockWidget):
            return f"{widget.windowTitle()} dock"
        widget = widget.parent()
    return "window"


def shortcut_rows(window) -> list[tuple[str, str, str]]:
    """``(keys, what, where)`` for every menu action with keys and every ``QShortcut`` in
    ``window``; one row per keys and action, the tabs it works in listed together."""
    rows: dict[tuple[str, str], list[str]] = {}
    for action in window.findChildren(QAction):
        keys = _keys(action.shortcuts())
        if keys and action.text():
            rows.setdefault((keys, _plain(action.text())), []).append(_where_action(action))
    for shortcut in window.findChildren(QShortcut):
        keys = _keys([shortcut.key()])
        if keys and shortcut.isEnabled():
            what = shortcut.whatsThis() or shortcut.objectName() or "(see the tab)"
            rows.setdefault((keys, what), []).append(_where_widget(shortcut.parent()))
    order = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    table = []
    for (keys, what), places in rows.items():
        unique = list(dict.fromkeys(places))
        tabs = sorted((p for p in unique if p in order), key=order.index)
        where = [p for p in unique if p not in tabs]
        if tabs:
            where.append(", ".join(tabs) + (" tab" if len(tabs) == 1 else " tabs"))
        table.append((keys, what, "; ".join(where)))
    return sorted(table, key=lambda row: (row[2] != "Go menu", row[2], row[1]))


class ShortcutsDialog(QDialog):
    """A three-column table in the application's font (large in presentation mode)."""

    def __init__(self, window):
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 3)
        self.table.setObjectName("shortcutsTable")
        self.table.setHorizontalHeaderLabels(["Keys", "Action", "Where"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)  # one line a row; a long cell's tooltip has it all
        for number, row in enumerate(rows):
            for column, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(number, column, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.resizeColumnsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        line = self.fontMetrics().height()
        width = sum(self.table.columnWidth(c) for c in range(3)) + 3 * line
        height = (len(rows) + 3) * int(line * 1.5) + buttons.sizeHint().height()
        screen = window.screen().availableGeometry() if window.screen() else None
        if screen is not None:
            width, height = min(width, screen.width() - 40), min(height, screen.height() - 80)
        self.resize(width, height)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def rows(self) -> list[tuple[str, str, str]]:
        return [tuple(self.table.item(r, c).text() for c in range(3))
                for r in range(self.table.rowCount())]


def show_shortcuts(window) -> ShortcutsDialog:
    dialog = ShortcutsDialog(window)
    window.shortcuts_dialog = dialog
    dialog.show()
    return dialog
