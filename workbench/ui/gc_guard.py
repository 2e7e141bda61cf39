"""Python's garbage collector runs on the GUI thread only while a window is open.

Automatic collection runs in whichever thread happens to allocate; if that is
the worker thread and the garbage holds Qt widgets (closures connected to
signals make cycles), Qt objects get destroyed off the GUI thread — a deadlock
or a crash.  While a window is open, automatic collection is off and a timer on
the GUI thread collects by generation, as Python itself would — except that
while a job runs only the youngest generation is collected: the older ones,
which can take 100 ms or more to scan after a big import on the worker (UMAP's
numba), wait until no job is running (or at most ``OLD_COLLECTION_MAX_S``), so
that live updates do not stutter.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 100
OLD_COLLECTION_MAX_S = 60.0


class MainThreadCollector(QObject):
    def __init__(self):
        super().__init__()
        self.users = 0
        self.busy_checks: list = []  # callables: True while a window's jobs run
        self._old_due_since: float | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.collect_due)

    def acquire(self, is_busy=None) -> None:
        """A window opened: collect only here, from now on."""
        if is_busy is not None:
            self.busy_checks.append(is_busy)
        self.users += 1
        if self.users == 1:
            gc.disable()
            self.timer.start()

    def release(self, is_busy=None) -> None:
        """A window closed (its workers stopped): collect now; the last one restores gc."""
        if is_busy in self.busy_checks:
            self.busy_checks.remove(is_busy)
        self.users = max(0, self.users - 1)
        gc.collect()
        if self.users == 0:
            self.timer.stop()
            gc.enable()

    def freeze(self) -> None:
        """Move everything alive now (torch, the model, numpy …) out of the collector's
        sight, so later collections only scan what was made since: short pauses.

        Called again after each model change: unfreezing first lets the previous
        model's garbage be collected instead of staying frozen for ever."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def collect_due(self) -> None:
        import time

        counts, thresholds = gc.get_count(), gc.get_threshold()
        generation = -1
        for level in range(3):
            if counts[level] > thresholds[level]:
                generation = level
        if generation >= 1:
            now = time.monotonic()
            self._old_due_since = self._old_due_since or now
            busy = any(check() for check in self.busy_checks)
            if busy and now - self._old_due_since < OLD_COLLECTION_MAX_S:
                generation = 0  # the older generations wait for a quiet moment
            else:
                self._old_due_since = None
        if generation >= 0:
            gc.collect(generation)


_collector: MainThreadCollector | None = None


def collector() -> MainThreadCollector:
    global _collector
    if _collector is None:
        _collector = MainThreadCollector()
    return _collector
