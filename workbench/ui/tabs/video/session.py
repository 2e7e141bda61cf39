"""Save and restore the Video tab: the frame step and range, clip settings, how frames
combine over time, the followed classes, the maps' settings, the position in the video,
and what was computed on it: the timeline's predictions and the per-frame (or clip) maps,
drawn again without running the model."""

from __future__ import annotations

import numpy as np

from workbench.ui import session_widgets as w

SPINS = ("every", "first", "last", "clip_step", "clip_stride", "window_size", "alpha")


def capture(panel) -> tuple[dict, dict]:
    choices = {"path": panel.path, "position": int(panel.player.index),
               "aggregation": panel.aggregation.currentData(), "followed": list(panel.followed),
               "method": panel.method.currentData(), "layer": panel.layer.currentData(),
               "map_range": panel.map_range.currentData(),
               "each_top1": panel.each_top1.isChecked(),
               "map_target": w.class_index(panel.map_target),
               "display": w.style_of(panel.display), "mode": panel.modes.currentIndex(),
               **{name: getattr(panel, name).value() for name in SPINS}}
    arrays: dict = {}
    if panel.path is None:
        return choices, arrays
    result = panel.predictions
    if result is not None:
        choices["predictions"] = {"done": int(result.done),
                                  "from_cache": int(result.from_cache)}
        arrays.update(indices=np.asarray(result.indices, np.int64),
                      times=np.asarray(result.times, np.float64), probs=w.float32(result.probs))
        if getattr(result, "spec", None) is not None:
            spec = result.spec
            choices["predictions"]["clip"] = [spec.frames, spec.step, spec.stride]
            arrays["starts"] = np.asarray(result.starts, np.int64)
    maps = panel.maps
    if maps is not None and maps.done:
        choices["maps"] = {"method": maps.method, "layer": maps.layer, "done": int(maps.done),
                           "extras": {k: v for k, v in maps.extras.items()
                                      if isinstance(v, str)}}
        arrays.update(map_indices=np.asarray(maps.indices, np.int64),
                      maps=w.float32(maps.maps), map_targets=np.asarray(maps.targets, np.int64))
    return choices, arrays


def restore(panel, choices: dict, arrays: dict) -> list[str]:
    problems: list[str] = []
    panel.modes.setCurrentIndex(int(choices.get("mode", 0) or 0))
    w.choose_data(panel.aggregation, choices.get("aggregation"), "combination", problems)
    w.choose_data(panel.method, choices.get("method"), "map method", problems)
    w.choose_layer(panel.layer, choices.get("layer"), problems)
    w.choose_data(panel.map_range, choices.get("map_range"), "map range", problems)
    panel.each_top1.setChecked(bool(choices.get("each_top1", True)))
    w.set_class(panel.map_target, choices.get("map_target"), problems)
    w.set_style(panel.display, choices.get("display"), problems)
    classes = panel.state.model.num_classes if panel.state.model is not None else 0
    panel.followed = [int(c) for c in choices.get("followed", []) if 0 <= int(c) < classes]
    saved_path = choices.get("path")
    if saved_path and panel.path is None:
        problems.append(f"the video {saved_path} is not open: its position and timeline "
                        "were not restored")
        return problems
    for name in SPINS:  # frame ranges fit only the video they were chosen on
        if saved_path == panel.path or name in ("window_size", "alpha"):
            w.set_value(getattr(panel, name), choices.get(name), name.replace("_", " "),
                        problems)
    if saved_path and saved_path == panel.path:
        _restore_predictions(panel, choices.get("predictions"), arrays, problems)
        _restore_maps(panel, choices.get("maps"), arrays, problems)
        panel.player.seek_index(int(choices.get("position", 0)))
    return problems


def _restore_predictions(panel, saved, arrays: dict, problems: list[str]) -> None:
    if not saved:
        return
    if any(name not in arrays for name in ("indices", "times", "probs")):
        problems.append("the timeline could not be read: press Run again")
        return
    model = panel.state.model
    if arrays["probs"].shape[1:] != (model.num_classes,):
        problems.append("the timeline does not fit this model: press Run again")
        return
    from workbench.core.video.frames import FramePredictions

    fields = (arrays["indices"], arrays["times"], arrays["probs"], int(saved["done"]),
              int(saved.get("from_cache", 0)))
    if saved.get("clip"):
        from workbench.core.video.clip_runs import ClipPredictions
        from workbench.core.video.clips import ClipSpec

        result = ClipPredictions(*fields, starts=arrays.get("starts", arrays["indices"]),
                                 spec=ClipSpec(*saved["clip"]))
    else:
        result = FramePredictions(*fields)
    panel.predictions = result
    panel._draw_predictions()
    panel.status.setText(panel._progress_text("restored"))


def _restore_maps(panel, saved, arrays: dict, problems: list[str]) -> None:
    if not saved:
        return
    maps, indices = arrays.get("maps"), arrays.get("map_indices")
    targets = arrays.get("map_targets")
    if maps is None or indices is None or targets is None or maps.ndim != 3 \
            or not len(maps) == len(indices) == len(targets):
        problems.append("the video's maps could not be read: press Compute maps again")
        return
    from workbench.core.video.frames import FrameMaps

    status = panel.status.text()
    panel._maps_arrived(FrameMaps(indices, maps, targets, str(saved.get("method", "")),
                                  saved.get("layer"), int(saved.get("done", len(maps))),
                                  dict(saved.get("extras") or {})))
    if panel.predictions is not None:
        panel.status.setText(status)  # the timeline's word, as after a run
