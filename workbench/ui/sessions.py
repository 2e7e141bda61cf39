"""Sessions in the window: File → Save session / Open session / Recent sessions; the
autosave and restoring after a crash are in ``workbench/ui/session_recovery.py``.

A session (``workbench/io/session.py``) is opened in two steps: its inputs and model go
into the window's startup (or replace the open ones), and once the model has loaded and
the inputs are open (in the order they were saved) every tab gets its choices and results
back (``workbench/ui/session_state.py``).  Whatever cannot be opened is one line each in a
single message and in the Messages log.  Throwaway windows (``restore=False``:
screenshots, tests) open and save sessions like any other.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from workbench.ui.session_recovery import (  # noqa: F401 - the names tests and callers use
    AUTOSAVE_NAME,
    DEFAULT_AUTOSAVE_S,
    LOCK_NAME,
    Recovery,
    ask_restore,
    autosave_path,
    lock_path,
    pid_alive,
)
from workbench.ui.settings import read_list

RECENT_KEY = "recent_sessions"
RECENT_LIMIT = 8
POLL_MS = 100
RESTORE_TIMEOUT_S = 180
FILE_FILTER = "Workbench sessions (*.wbsession);;All files (*)"


def show_problems(window, title: str, lines: list[str]) -> QMessageBox:
    """One message listing what could not be opened (not modal: the window stays usable)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title,
                      "Opened what could be opened. Not restored:", parent=window)
    box.setInformativeText("\n".join(f"• {line}" for line in lines))
    box.setModal(False)
    box.show()
    return box


def install(window) -> None:
    """The File menu's session entries and the window's session controller."""
    window.sessions = SessionController(window)
    window.sessions.add_menu(window.file_menu)


class SessionController(Recovery, QObject):
    """Save, open, recent, autosave and crash restore for one main window."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.pending = None  # an Opened session waiting for the model and inputs
        self.last_problems: list[str] = []
        self.problems_box = None
        self._last_digest: str | None = None
        self._stable = 0
        self._fell_back = False
        self._errors: list[str] = []
        self._waiting_since = 0.0
        self._poll = QTimer(self, interval=POLL_MS, timeout=self._check_ready)
        self._autosave = QTimer(self, timeout=self.autosave)
        window.state.message.connect(self._note_message)

    # ------------------------------------------------------------------- menus
    def add_menu(self, menu) -> None:
        from workbench.ui.menus import add_action

        menu.addSeparator()
        window = self.window
        add_action(window, menu, "&Save session…", lambda: self.save(), "Ctrl+S")
        add_action(window, menu, "Save session with &copies of the inputs…",
                   lambda: self.save(copy_inputs=True))
        add_action(window, menu, "Open sess&ion…", lambda: self.open())
        self.recent_menu = menu.addMenu("&Recent sessions")
        self.recent_menu.aboutToShow.connect(self.fill_recent)
        self.fill_recent()

    def fill_recent(self) -> None:
        menu = self.recent_menu
        menu.clear()
        paths = self.recent()
        for path in paths:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda *_, p=path: self.load(p))
        if not paths:
            menu.addAction("(none)").setEnabled(False)

    def recent(self) -> list[str]:
        """The last sessions saved or opened, newest first; files gone are dropped."""
        return [p for p in read_list(self.window.settings, RECENT_KEY)
                if Path(p).is_file()][:RECENT_LIMIT]

    def _remember(self, path) -> None:
        path = str(Path(path).resolve())
        if Path(path) == autosave_path().resolve():
            return
        paths = [path] + [p for p in self.recent() if p != path]
        self.window.settings.setValue(RECENT_KEY, paths[:RECENT_LIMIT])
        self.window.settings.sync()

    # -------------------------------------------------------------------- save
    def capture(self, copy_inputs: bool = False):
        from workbench.ui.session_state import capture_window

        return capture_window(self.window, copy_inputs)

    def save(self, path: str | None = None, copy_inputs: bool = False) -> str | None:
        """Write the session to ``path`` (asked when not given); returns the path."""
        from workbench.io.session import SUFFIX, write_session

        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.window, "Save session",
                                                  f"workbench{SUFFIX}", FILE_FILTER)
            if not path:
                return None
            if not path.endswith(SUFFIX):
                path += SUFFIX
        try:
            write_session(path, *self.capture(copy_inputs))
        except Exception as exc:  # noqa: BLE001 - reported, never fatal
            self.window.state.error(f"Cannot save the session {path}: {exc}")
            return None
        self._remember(path)
        self.window.state.info(f"Saved session {path}")
        return str(path)

    # -------------------------------------------------------------------- open
    def open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open session", "", FILE_FILTER)
        if path:
            self.load(path)

    def load(self, path) -> bool:
        """Open a session in the running window: its inputs replace the open ones."""
        opened = self._read(path)
        if opened is None:
            return False
        window = self.window
        dock = window.inputs
        dock.list.selectAll()
        dock.remove_selected()
        self._add_memory(opened)
        if opened.files:
            dock.add_paths(opened.files, select=True)
        self._choose_device(opened)
        spec = opened.model or window._startup_model
        if window.state.model is None or window.state.model.name != spec:
            window.model_dock.load(spec)
        self._wait_for(opened)
        return True

    def start(self) -> None:
        """At the window's start (before the model and inputs are opened): the crash
        check, the lock, the autosave timer, and the session asked for on the command
        line (or the autosave the user chose to restore)."""
        window = self.window
        path = getattr(window, "_session_file", None)
        if window._persist:
            if self._crashed() and autosave_path().is_file() and ask_restore(window):
                path = str(autosave_path())
            self._write_lock()
            seconds = self.autosave_seconds()
            if seconds > 0:
                self._autosave.start(int(seconds * 1000))
        if path:
            self._start_with(path)

    def _start_with(self, path) -> None:
        opened = self._read(path)
        if opened is None:
            return
        window = self.window
        if opened.files or opened.memory:
            window._startup_files = list(opened.files)
            window.open_default_sample = False  # the session says what to open
        self._add_memory(opened)
        if opened.model:
            window._startup_model = opened.model
        self._choose_device(opened)
        self._wait_for(opened)

    def _read(self, path):
        from workbench.errors import WorkbenchError
        from workbench.ui.session_state import open_session

        try:
            opened = open_session(path)
        except WorkbenchError as exc:
            self._report(str(path), [str(exc)])
            return None
        if Path(path).resolve() != autosave_path().resolve():
            self._remember(path)
        return opened

    def _add_memory(self, opened) -> None:
        opened.memory_ids = [self.window.inputs.add_array(image, name, select=False)
                             for name, image in opened.memory]

    def _choose_device(self, opened) -> None:
        device = str((opened.manifest.get("model") or {}).get("device") or "cpu")
        combo = self.window.model_dock.device_combo
        if combo.findText(device) < 0:
            combo.addItem(device)
        combo.setCurrentText(device)

    # ---------------------------------------------------------------- restoring
    def _wait_for(self, opened) -> None:
        self.pending, self._stable, self._fell_back = opened, 0, False
        self._errors = []
        self._waiting_since = time.monotonic()
        self._poll.start()

    def _note_message(self, text: str, error: bool) -> None:
        if error and self.pending is not None:
            self._errors.append(text)

    def _check_ready(self) -> None:
        """Restore once the model has loaded (or failed), every input is open, the one in
        front is on screen and the window is idle."""
        window, opened = self.window, self.pending
        timed_out = time.monotonic() - self._waiting_since > RESTORE_TIMEOUT_S
        if not window.is_settled() and not timed_out:
            self._stable = 0
            return
        self._stable += 1
        if self._stable < 2 and not timed_out:
            return
        if not timed_out and not (self._model_ready(opened) and self._current_ready(opened)):
            self._stable = 0
            return
        self._poll.stop()
        self.pending = None
        self._finish(opened, timed_out)

    def _model_ready(self, opened) -> bool:
        """``True`` once the session's model is loaded, or another one after it failed."""
        model = self.window.state.model
        if model is not None and (model.name == opened.model or self._fell_back):
            return True
        if self._fell_back:
            return model is not None
        from workbench.ui.main_window import DEFAULT_MODEL

        self._fell_back = True
        why = self._errors[-1] if self._errors else "it could not be loaded"
        if model is None or model.name != opened.model:
            instead = model.name if model is not None else DEFAULT_MODEL
            opened.problems.append(f"model {opened.model or '(none)'} is not available ({why}); "
                                   f"{instead} is loaded instead, and the results computed "
                                   "with the saved model are not shown")
        if model is None:
            self.window.model_dock.device_combo.setCurrentText("cpu")
            self.window.model_dock.load(DEFAULT_MODEL)
            return False
        return True

    def _current_ready(self, opened) -> bool:
        """The session's inputs are in their saved order and the one in front is selected
        and loaded (and its video opened)."""
        window, dock = self.window, self.window.inputs
        arrange_inputs(dock, opened)
        record = opened.record_at(dock, opened.current_at) \
            if opened.current_at is not None else None
        if record is None and dock.current_record() is None and dock.records:
            record = dock.records.get(dock.list.item(0).data(_id_role()))  # none was in front
        if record is not None and dock.current_record() is not record:
            dock.select(record.id)
            return False
        if (opened.files or opened.memory) and window.state.image is None:
            return False
        video = window.panel("Video")
        path = window.state.video_path
        return path is None or (video.path == path and video.info is not None)

    def _finish(self, opened, timed_out: bool) -> None:
        from workbench.ui.session_state import restore_tabs

        model = self.window.state.model
        same = model is not None and model.name == opened.model
        problems = list(opened.problems)
        if timed_out:
            problems.append("the model or the inputs took too long to open: restored what "
                            "was there")
        problems += restore_tabs(self.window, opened, same)
        self._report(opened.path, problems)
        from workbench.ui.session_state import digest

        self._last_digest = digest(*self.capture()[:2])

    def _report(self, path: str, problems: list[str]) -> None:
        state = self.window.state
        self.last_problems = list(problems)
        name = Path(path).name
        if not problems:
            state.info(f"Opened session {name}")
            return
        for line in problems:
            state.error(f"Session {name}: {line}")
        state.error(f"Session {name}: {len(problems)} item(s) could not be opened "
                    "(see Messages)")
        self.problems_box = show_problems(self.window, f"Session {name}", problems)


def _id_role():
    from workbench.ui.inputs_dock import ID_ROLE

    return ID_ROLE


def arrange_inputs(dock, opened) -> None:
    """Put the Inputs dock's list in the session's saved order (files arrive after the
    in-memory images; inputs not in the session stay after them).  The input in front
    stays in front, and the dock is not told: nothing is loaded again."""
    wanted = [r.id for r in (opened.record_at(dock, i) for i in range(len(opened.order)))
              if r is not None]
    view, role = dock.list, _id_role()
    listed = [view.item(row).data(role) for row in range(view.count())]
    order = [i for i in wanted if i in listed] + [i for i in listed if i not in wanted]
    if order == listed:
        return
    current = view.currentItem()
    view.blockSignals(True)
    try:
        for position, record_id in enumerate(order):
            row = next(r for r in range(view.count()) if view.item(r).data(role) == record_id)
            if row != position:
                view.insertItem(position, view.takeItem(row))
        if current is not None:
            view.setCurrentItem(current)
    finally:
        view.blockSignals(False)
