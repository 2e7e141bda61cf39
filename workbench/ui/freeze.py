"""*View → Freeze results*: keep what the tabs show on screen while the lecturer talks.

One switch, :data:`freeze`, read where results would otherwise be recomputed or replaced:

- :class:`~workbench.ui.state.AppState` holds back ``image_changed`` (a new input, a new
  frame of the video) while frozen and sends it once at the thaw, so no tab clears or
  replaces its results for an input it has not computed yet;
- :meth:`TaskPanel.request_refresh <workbench.ui.tabs.base.TaskPanel.request_refresh>`
  only marks a tab out of date (a new model, a changed parameter), and the thaw refreshes
  the tabs that are;
- the Video tab's live page keeps its last frame and overlay (a recording goes on).

What the user asks for explicitly — pressing *Run*, stepping a video — still works.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel

FREEZE_KEYS = "Ctrl+Shift+F"
FROZEN_TEXT = "❄ Frozen — results kept on screen"


class Freeze(QObject):
    """``frozen`` and ``changed(frozen)``; :meth:`hold` keeps work for the thaw."""

    changed = Signal(bool)

    def __init__(self):
        super().__init__()
        self.frozen = False
        self._held: dict = {}

    def set_frozen(self, frozen: bool) -> None:
        frozen = bool(frozen)
        if frozen == self.frozen:
            return
        self.frozen = frozen
        held, self._held = self._held, {}
        for call in held.values():  # what changed meanwhile, before out-of-date tabs refresh
            try:
                call()
            except RuntimeError:  # its window is gone
                continue
        self.changed.emit(frozen)

    def hold(self, key, call) -> bool:
        """While frozen, keep ``call`` (the latest one per ``key``) for the thaw and return
        True; otherwise return False (the caller goes ahead)."""
        if not self.frozen:
            return False
        self._held[key] = call
        return True


freeze = Freeze()


def install(window) -> QAction:
    """View → Freeze results (checkable, Ctrl+Shift+F) and its note in the status bar; a
    new window starts unfrozen."""
    freeze.set_frozen(False)
    action = QAction("&Freeze results (keep them on screen)", window)
    action.setObjectName("freezeAction")
    action.setCheckable(True)
    action.setShortcut(QKeySequence(FREEZE_KEYS))
    action.setToolTip("keep every tab's results on screen: a new input, model or frame waits "
                      "until you unfreeze (Run still runs)")
    action.toggled.connect(freeze.set_frozen)
    note = QLabel(FROZEN_TEXT)
    note.setObjectName("frozenNote")
    note.setToolTip("View → Freeze results (Ctrl+Shift+F) again to update the tabs")
    note.setVisible(False)
    window.statusBar().addPermanentWidget(note)

    freeze.changed.connect(action.setChecked)  # slots of Qt objects: gone with the window
    freeze.changed.connect(note.setVisible)
    window.view_menu.addSeparator()
    window.view_menu.addAction(action)
    window.freeze_action = action
    window.frozen_note = note
    return action
