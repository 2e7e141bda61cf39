"""Python's garbage collector runs on the GUI thread only while a window is open.

Automatic collection runs in whichever thread happens to allocate; if that is
the worker thread and the garbage holds Qt widgets (closures connected to
signals make cycles), Qt objects get destroyed off the GUI thread — a deadlock
or a crash.  While a window is open, automatic collection is off and a timer on
the GUI thread collects by generation, as Python itself would.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class MainThreadCollector(QObject):
    def __init__(self):
        super().__init__()
        self.users = 0
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.collect_due)

    def acquire(self) -> None:
        """A window opened: collect only here, from now on."""
        self.users += 1
        if self.users == 1:
            gc.disable()
            self.timer.start()

    def release(self) -> None:
        """A window closed (its workers stopped): collect now; the last one restores gc."""
        self.users = max(0, self.users - 1)
        gc.collect()
        if self.users == 0:
            self.timer.stop()
            gc.enable()

    def collect_due(self) -> None:
        counts, thresholds = gc.get_count(), gc.get_threshold()
        generation = -1
        for level in range(3):
            if counts[level] > thresholds[level]:
                generation = level
        if generation >= 0:
            gc.collect(generation)


_collector: MainThreadCollector | None = None


def collector() -> MainThreadCollector:
    global _collector
    if _collector is None:
        _collector = MainThreadCollector()
    return _collector
