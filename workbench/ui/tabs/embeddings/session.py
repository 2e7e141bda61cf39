"""Save and restore the Embeddings tab: the dataset, layer, map method and parameters,
colouring, neighbour settings, and the 2-D map itself with its labels and paths (and the
features, when small enough, so neighbours work without rebuilding)."""

from __future__ import annotations

import numpy as np

from workbench.ui import session_widgets as w

MAX_FEATURE_BYTES = 64 << 20  # larger feature sets are not saved: neighbours need a rebuild


class _SavedProjection:
    """The fitted projection is not saved: placing new points needs the map rebuilt."""

    def transform(self, _features):
        from workbench.errors import WorkbenchError

        raise WorkbenchError("this map was restored from a session: build it again to place "
                             "new images on it")


def capture(panel) -> tuple[dict, dict]:
    choices = {"source": panel.source.currentData(), "path": panel.source_path,
               "every": panel.every.value(), "layer": panel.layer.currentData(),
               "method": panel.method.currentData(), "params": panel.form.values(),
               "colour_by": panel.colour_by.currentText(),
               "colour_class": w.class_index(panel.colour_class), "k": panel.k.value(),
               "metric": panel.metric_combo.currentText()}
    data = panel.map_data
    if data is None:
        return choices, {}
    choices["map"] = {"label_names": list(data.label_names), "names": list(data.names),
                      "skipped": [list(s) for s in data.skipped], "layer": data.layer,
                      "method": data.method, "seconds": float(data.seconds),
                      "from_cache": bool(data.from_cache)}
    arrays = {"coords": w.float32(data.coords), "labels": np.asarray(data.labels, np.int64)}
    features = data.features.features
    if features.nbytes <= MAX_FEATURE_BYTES:
        arrays["features"] = w.float32(features)
        if data.features.indices is not None:
            arrays["indices"] = np.asarray(data.features.indices, np.int64)
    if panel.predictions is not None:
        top, probs = panel.predictions
        if probs.nbytes <= MAX_FEATURE_BYTES:
            arrays.update(predicted=np.asarray(top, np.int64), probs=probs.astype(np.float16))
    return choices, arrays


def restore(panel, choices: dict, arrays: dict) -> list[str]:
    problems: list[str] = []
    if not panel.reducers:
        return ["no model is loaded: nothing restored"]
    source = choices.get("source")
    if panel.source.findData(source) >= 0:
        panel.set_source(source, choices.get("path", ""))
    w.set_value(panel.every, choices.get("every"), "frame step", problems)
    w.choose_layer(panel.layer, choices.get("layer"), problems)
    w.choose_data(panel.method, choices.get("method"), "map method", problems)
    w.set_form(panel.form, choices.get("params"), problems)
    w.set_class(panel.colour_class, choices.get("colour_class"), problems)
    w.set_value(panel.k, choices.get("k"), "neighbours", problems)
    w.choose_text(panel.metric_combo, choices.get("metric"), "metric", problems)
    panel.colour_by.blockSignals(True)  # recoloured once, with the restored map
    w.choose_text(panel.colour_by, choices.get("colour_by"), "colouring", problems)
    panel.colour_by.blockSignals(False)
    _restore_map(panel, choices.get("map"), arrays, problems)
    return problems


def _restore_map(panel, saved, arrays: dict, problems: list[str]) -> None:
    if not saved:
        return
    coords, labels = arrays.get("coords"), arrays.get("labels")
    if coords is None or labels is None or len(coords) != len(saved.get("names", ())):
        problems.append("the map could not be read: press Build map again")
        return
    from workbench.core.embedding.features import FeatureSet
    from workbench.ui.tabs.embeddings.jobs import MapData

    names = list(saved["names"])
    features = arrays.get("features")
    index = None
    if features is not None and len(features) == len(coords):
        from workbench.core.embedding import FeatureIndex

        index = FeatureIndex(features, panel.metric_combo.currentText())
    else:
        problems.append("the map's features were not saved: rebuild the map for neighbours")
        features = np.zeros((len(coords), 0), np.float32)
    feature_set = FeatureSet(features, labels, names, list(saved["label_names"]),
                             layer=saved["layer"], indices=arrays.get("indices"))
    data = MapData(coords, labels, list(saved["label_names"]), names,
                   [tuple(s) for s in saved.get("skipped", [])], saved["layer"],
                   saved["method"], float(saved["seconds"]), bool(saved["from_cache"]),
                   _dataset(panel, problems), feature_set, _SavedProjection(), index)
    if "predicted" in arrays and "probs" in arrays:
        panel.predictions = (arrays["predicted"], arrays["probs"])
    panel._on_map(data)


def _dataset(panel, problems: list[str]):
    """The dataset again (for thumbnails and opening neighbours), if it can be opened."""
    try:
        return panel.dataset_spec().open()
    except Exception as exc:  # noqa: BLE001 - the map still shows without it
        problems.append(f"the map's dataset cannot be opened ({exc}): thumbnails are off")
        return None
