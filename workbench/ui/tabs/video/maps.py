"""The Video tab's maps: per-frame (image models) or spatiotemporal (clip models)
attribution maps of the sampled frames, played with the video (a mixin of
:class:`~workbench.ui.tabs.video.panel.VideoPanel`)."""

from __future__ import annotations

from functools import partial

import numpy as np

from workbench.ui.tabs.video.jobs import clip_maps_job, maps_job, nearest_row


class VideoMaps:
    """Run, receive and show the maps; the widgets and the player are the panel's."""

    def run_maps(self) -> None:
        model, indices = self.state.model, self._frames_to_run()
        if indices is None or not self.method.count():
            return
        method, layer = self.method.currentData(), self.layer.layer()
        target = None if self.each_top1.isChecked() else self.map_target.index_value()
        if self.is_clip_model():
            job = partial(clip_maps_job, model, self.path, self.clip_spec(), self.first.value(),
                          self.last.value() + 1, method, layer, target,
                          {"weighting": self.weighting.currentData()}
                          if self._method_weights() else None)
            name, what = "Clip maps", "the clips"
        else:
            job = partial(maps_job, model, self.path, indices, method, layer, target, None)
            name, what = "Per-frame maps", f"{len(indices)} frames"
        self.status.setText(f"maps of {what} …")
        self._handle = self.runner.submit(
            job, name=name, key="video-maps", on_partial=self._maps_arrived,
            on_finished=self._maps_arrived, on_error=self.state.error)

    def _maps_arrived(self, maps) -> None:
        self.maps = maps
        done = maps.maps[: maps.done]  # the video's range, once per arrival, not per frame
        self.map_limits = (float(np.nanmin(done)), float(np.nanmax(done))) if maps.done else None
        self.status.setText(f"maps: {maps.done} of {len(maps.indices)} frames")
        self.show_map()

    def show_map(self) -> None:
        maps, view = self.maps, self.player.model_view
        view.overlay_style = self.display.current_style()  # drawn once, by set_map
        if maps is None or maps.done == 0:
            view.set_map(None)
            return
        row = nearest_row(maps.indices[: maps.done], self.player.index)
        one_range = self.map_range.currentData() == "video"  # intensity compares over time
        view.set_map(maps.maps[row], units="attribution value",
                     limits=self.map_limits if one_range else None)
        weighting = maps.extras.get("weighting_text")
        view.set_title(f"{self.method.currentText()} · frame {maps.indices[row]}"
                       + (f" · {weighting}" if weighting else ""))

    def _method_weights(self) -> bool:
        """The chosen method has channel weights that can be taken per clip or per time."""
        from workbench.core.attribution import METHODS

        name = self.method.currentData()
        params = METHODS[name].params_cls if name in METHODS else None
        return params is not None and "weighting" in getattr(params, "__dataclass_fields__", {})

    def on_method(self, *_args) -> None:
        """The channel weighting is a choice for clip models' CAMs only."""
        self.maps_form.setRowVisible(self.weighting, self.is_clip_model())
        self.weighting.setEnabled(self.is_clip_model() and self._method_weights())
