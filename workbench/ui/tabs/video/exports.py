"""The Video tab's exports: the timeline figure, the annotated video, the per-frame
probabilities and maps (the same writers as ``workbench video``)."""

from __future__ import annotations

from functools import partial

import numpy as np


class VideoExports:
    """Mixed into the panel: reads ``predictions``, ``smoothed``, ``maps``, ``info``."""

    def _have_predictions(self) -> bool:
        if self.predictions is None or self.state.model is None or not self.predictions.done:
            self.state.error("Run the per-frame predictions first")
            return False
        return True

    def _done_part(self):
        """The predictions of the frames already computed."""
        from dataclasses import replace

        result = self.predictions
        keep = result.complete
        return replace(result, indices=result.indices[keep], times=result.times[keep],
                       probs=result.probs[keep])

    def export_timeline(self, path: str | None = None) -> str | None:
        from workbench.core.video.export import write_timeline
        from workbench.ui.theme import current_theme

        if not self._have_predictions():
            return None
        path = path or self.ask_figure_path("timeline.png")
        if not path:
            return None
        classes = [index for index, _n, _c, _k in self.legend.entries]
        write_timeline(path, self.state.model, self.info, self._done_part(),
                       {"aggregation": self.aggregation_text()}, self.player.index /
                       max(self.info.fps, 1e-9), current_theme().dark, classes)
        self.state.info(f"Saved {path}")
        return path

    def export_video(self, path: str | None = None, on_done=None) -> str | None:
        from workbench.ui.tabs.video.jobs import export_video_job

        if not self._have_predictions():
            return None
        path = path or self.ask_path("Export the annotated video", "annotated.mp4",
                                     "MP4 video (*.mp4);;GIF animation (*.gif)")
        if not path:
            return None
        if not path.lower().endswith((".mp4", ".gif")):
            path += ".mp4"
        maps = self.maps if self.maps is not None and self.maps.done == len(
            self.maps.indices) else None
        self.runner.submit(partial(export_video_job, path, self.path, self.state.model,
                                   self._done_part(), self.smoothed, maps,
                                   self.with_timeline.isChecked()),
                           name="Writing the annotated video", key="video-export",
                           on_finished=lambda _p: (self.state.info(f"Saved {path}"),
                                                   on_done and on_done(path)),
                           on_error=self.state.error)
        return path

    def export_probabilities(self, path: str | None = None) -> str | None:
        from workbench.core.video.export import save_probabilities

        if not self._have_predictions():
            return None
        path = path or self.ask_path("Export the probabilities", "probabilities.csv",
                                     "CSV (*.csv);;NumPy (*.npz)")
        if not path:
            return None
        model = self.state.model
        top = [{"index": int(i)} for i in np.argsort(-self.video_probs)[:5]]
        save_probabilities(path, model, self._done_part(), self.smoothed, {"video_top": top})
        self.state.info(f"Saved {path}")
        return path

    def export_maps(self, path: str | None = None) -> str | None:
        from workbench.io.atomic import save_npy_atomic

        if self.maps is None or not self.maps.done:
            self.state.error("Compute the maps first")
            return None
        path = path or self.ask_path("Export the maps", "maps.npy", "NumPy (*.npy)")
        if not path:
            return None
        save_npy_atomic(path, self.maps.maps[: self.maps.done].astype(np.float32))
        self.state.info(f"Saved {path}")
        return path

    def caption(self) -> str:
        if self.info is None or self.state.model is None:
            return ""
        return (f"{self.info.path.rsplit('/', 1)[-1]}: per-frame predictions of "
                f"{self.state.model.caption()}, {self.aggregation_text()}")
