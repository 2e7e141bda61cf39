"""Driving the window for a lesson: load a model, open an input, show a tab, and run the
next step once everything has arrived (models and images load on their own threads, so
each step waits for what it needs instead of assuming it is there)."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

POLL_MS = 50
GIVE_UP_S = 900.0


class Steps(QObject):
    """The lesson's pending steps; opening another lesson drops the ones still waiting."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self._timers: list[QTimer] = []

    def cancel(self) -> None:
        for timer in self._timers:
            timer.stop()
            timer.deleteLater()
        self._timers = []

    def when(self, ready, then, settled: bool = True) -> None:
        """Call ``then()`` once ``ready()`` is true (and, with ``settled``, no job runs)."""
        timer = QTimer(self, interval=POLL_MS)
        started = time.monotonic()

        def tick():
            if time.monotonic() - started > GIVE_UP_S or self.window._closed:
                self._drop(timer)
                return
            try:
                ok = bool(ready()) and (not settled or self.window.is_settled())
            except Exception:  # noqa: BLE001 - not ready yet (a half-built result)
                ok = False
            if ok:
                self._drop(timer)
                then()

        timer.timeout.connect(tick)
        self._timers.append(timer)
        timer.start()

    def _drop(self, timer: QTimer) -> None:
        timer.stop()
        if timer in self._timers:
            self._timers.remove(timer)
        timer.deleteLater()

    # ------------------------------------------------------------ the usual setup
    def prepare(self, model: str, tab: str, then, sample: str | None = None,
                path: str | None = None) -> None:
        """Show ``tab``, load ``model`` (unless it is loaded), open the sample photo
        ``sample`` (or the file ``path``) in the Inputs dock and select it, then ``then()``."""
        window = self.window
        window.tabs.setCurrentWidget(window.panel(tab))
        if window.state.model_spec != model:
            window.model_dock.load(model)
        wanted = None
        if sample or path:
            from workbench.io.samples import sample_path

            wanted = Path(path) if path else sample_path(sample)
            window.inputs.add_paths([str(wanted)], select=True)
        self.when(lambda: self.has_model(model) and (wanted is None or self.shows(wanted)),
                  then)

    def has_model(self, name: str) -> bool:
        model = self.window.state.model
        return model is not None and model.name == name

    def shows(self, path: Path) -> bool:
        """The current input (image, or video) was read from ``path``."""
        state = self.window.state
        current = state.video_path or state.image_path
        return (state.image is not None and bool(current)
                and Path(current).resolve() == path.resolve())

    def open_digits(self, then) -> None:
        """The held-out digits in the Inputs dock, ``digit 0`` selected, on digits_lenet."""
        window = self.window
        if window.state.model_spec != "digits_lenet":
            window.model_dock.load("digits_lenet")
        if window.state.image_name != "digit 0":
            window.open_digit_samples()
        self.when(lambda: self.has_model("digits_lenet")
                  and window.state.image_name == "digit 0", then)
