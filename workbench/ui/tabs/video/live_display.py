"""The Live page's drawing: the frame shown with its prediction (top classes, label and
Grad-CAM, all of the same frame), and the statistics line — frames per second, latency,
frames dropped and, while recording, frames written."""

from __future__ import annotations

import time

import numpy as np

from workbench.io.live import stats_text
from workbench.ui.tabs.video.live_jobs import LiveInput, LiveResult
from workbench.ui.theme import style_all_plots

STATS_EVERY_S = 0.25


class LiveDisplay:
    """Mixed into :class:`~workbench.ui.tabs.video.live_page.LivePage`."""

    def _show_frame(self, frame: np.ndarray) -> None:
        self.shown = frame
        self.view.set_image(frame)

    def _show_result(self, item: LiveInput, model, result: LiveResult) -> None:
        from workbench.core.preprocess import crop_box

        self.result = result
        self._show_frame(item.frame)
        if result.heat is not None:
            top, left, h, w = crop_box(*item.frame.shape[:2], model.input_size)
            self.view.set_map(result.heat, units="Grad-CAM value", rect=(left, top, w, h))
            self.view.set_title(f"Grad-CAM of {result.top[0].label} · layer {result.layer}")
        elif self.view.heat is not None:
            self.view.set_map(None)
            self.view.set_title("live")
        self.chart.show_scores(result.top)  # with the frame, the map and the label: all agree
        best = result.top[0]
        self.top_label.setText(f"{best.label} {best.prob * 100:.1f} %")

    def _show_stats(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._stats_at < STATS_EVERY_S:
            return
        self._stats_at = now
        self.stats.setText(stats_text(self.scheduler.fps(now), self.scheduler.latency(),
                                      self.dropped))
        if self.recorder is not None:
            self.stats.setText(self.stats.text() + f" · recording {self.recorder.written}")

    @property
    def dropped(self) -> int:
        """Frames that were never predicted: replaced in the mailbox or while waiting."""
        return self.mailbox.dropped + self.scheduler.dropped

    def _cam_toggled(self, on: bool) -> None:
        if not on and self.view.heat is not None:
            self.view.set_map(None)
            self.view.set_title("live")

    def _on_theme(self, _theme) -> None:
        style_all_plots(self)
