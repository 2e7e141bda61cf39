"""The Video tab's "which moments matter": temporal occlusion of the clip at the current
position (a clip model's own clip, or sampled frames averaged by an image model), drawn
on the timeline as the drop of the class's probability when each window is hidden."""

from __future__ import annotations

from functools import partial

import numpy as np

from workbench.ui.tabs.video.jobs import moments_job


class VideoMoments:
    """Mixed into :class:`~workbench.ui.tabs.video.panel.VideoPanel`."""

    def _moment_frames(self) -> np.ndarray:
        """The clip at the current position: a clip model's own clip, or for an image model
        the chosen number of sampled frames (every ``Sample`` frames) from here on."""
        from workbench.core.video.clips import ClipSpec, clip_indices

        spec = self.clip_spec() if self.is_clip_model() else ClipSpec(
            self.hide_frames.value(), self.every.value())
        return clip_indices(int(self.player.index), spec, self.info.frame_count)

    def run_moments(self) -> None:
        """Temporal occlusion: hide a window of frames, slide it over the clip, and draw
        how much the class's probability drops on the timeline."""
        model = self.state.model
        if model is None or self.path is None:
            self.state.error("Open a video first (and wait for the model)")
            return
        self._moment_indices = self._moment_frames()
        target = None if self.each_top1.isChecked() else self.map_target.index_value()
        self.moments.setText(f"hiding frames of the clip from frame {self._moment_indices[0]} "
                             "…")
        self._handle = self.runner.submit(
            partial(moments_job, model, self.path, self._moment_indices,
                    self.hide_window.value(), self.hide_fill.currentData(), target),
            name="Hiding frames", key="video-moments", on_partial=self._moments_arrived,
            on_finished=self._moments_arrived, on_error=self.state.error)

    def _moments_arrived(self, result) -> None:
        self.moments_result = result
        times = np.array([self.info.time_of(int(i)) for i in self._moment_indices])
        centres = np.array([times[p:p + result.window].mean() for p in result.positions])
        self._drop_entry = self.timeline.plot_drops(centres, result.drops, result.label)
        self.legend.set_entries([e for e in self.legend.entries if e[0] != -1]
                                + [self._drop_entry])
        finite = np.isfinite(result.drops)
        if not finite.any():
            return
        best = int(np.nanargmax(result.drops))
        first = self._moment_indices[result.positions[best]]
        last = self._moment_indices[result.positions[best] + result.window - 1]
        kind = "the clip" if self.is_clip_model() else "the frames averaged"
        self.moments.setText(
            f"{result.label}: {result.base_prob:.1%} on {kind}; hiding frames {first}–{last} "
            f"drops it most, by {result.drops[best]:.1%} ({result.done} of {result.total} "
            "windows)")

    def _clear_moments(self) -> None:
        self.moments_result, self._drop_entry = None, None
        self.timeline.plot_drops(None, None, "")
        if hasattr(self, "moments"):
            self.moments.setText("")
