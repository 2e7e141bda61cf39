"""Results already on screen, as the ``reuse`` mapping of
:func:`~workbench.core.report.build_report`: a section that the session has computed for
the same model, the same input and the same parameters is drawn from it instead of being
computed again.

:func:`session_choices` gives the report's options the parameters of what the tabs show
(the attack, the feature visualization's recipe, the map, the timeline's frames, the sweep's
window), so that a report made after working in the tabs asks for those results;
:func:`collect_reuse` then checks every result against the options it is given.

Panels are read, never changed; every attribute is read defensively (a panel that has
nothing, or something for another model, input or parameters, gives nothing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.core.report import ReportInput, ReportOptions, reuse_key


def collect_reuse(window, current, options: ReportOptions | None = None) -> dict:
    """``{(section, input key): result}`` for the input ``current`` (a
    :class:`~workbench.core.report.ReportInput`, the one shown in the window, or ``None``)
    and the report's ``options``; the Video tab's timeline is keyed by its video."""
    model = getattr(window.state, "model", None)
    if model is None:
        return {}
    options = options or ReportOptions()
    found = {}
    pictures = (_prediction, _attribution, _occlusion, _model_table, _adversarial, _featviz,
                _embedding)
    for collect in (*(pictures if current is not None else ()), _video):
        try:
            found.update(collect(window, model, current, options))
        except Exception:  # noqa: BLE001 - a panel in an unexpected state: compute instead
            continue
    return found


def session_choices(window) -> dict:
    """``{section: (option overrides, description)}`` for the results the tabs show for the
    window's model and image (the dialog applies the overrides to the report's options)."""
    model = getattr(window.state, "model", None)
    if model is None:
        return {}
    choices = {}
    for name, choose in (("adversarial", _attack_choice), ("featviz", _featviz_choice),
                         ("embedding", _embedding_choice), ("video", _video_choice),
                         ("occlusion", _occlusion_choice)):
        try:
            chosen = choose(window, model)
        except Exception:  # noqa: BLE001 - a panel in an unexpected state: the defaults
            chosen = None
        if chosen:
            choices[name] = chosen
    return choices


# ------------------------------------------------------------------ helpers
def _panel(window, title):
    try:
        return window.panel(title)
    except StopIteration:
        return None


def _same_model(panel, model) -> bool:
    owner = getattr(panel, "model", None) or getattr(getattr(panel, "state", None), "model",
                                                     None)
    return owner is model


def _same_image(a, b) -> bool:
    if a is None or b is None:
        return False
    if a is b:
        return True
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _close(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))
    return a == b


# ------------------------------------------------------------------ the older sections
def _prediction(window, model, current, options) -> dict:
    panel = _panel(window, "Predict")
    prediction = getattr(panel, "prediction", None)
    if prediction is None or not _same_model(panel, model):
        return {}
    return {reuse_key("predict", current): prediction}


def _attribution(window, model, current, options) -> dict:
    import torch

    from workbench.core.attribution import AttributionResult

    panel = _panel(window, "Attribution")
    shown = getattr(panel, "result", None)
    heat = getattr(shown, "heat", None)
    if heat is None or not _same_model(panel, model) or heat.ndim != 2:
        return {}
    if tuple(heat.shape) != tuple(model.input_size):
        return {}
    result = AttributionResult(torch.from_numpy(heat.copy())[None], [int(shown.target)],
                               shown.method, shown.layer)
    return {reuse_key(shown.method, current): result}


def _finished_sweep(window, model):
    panel = _panel(window, "Occlusion")
    sweep = getattr(panel, "sweep", None)
    if sweep is None or sweep.done < sweep.total or getattr(panel, "sweep_model", None) \
            is not model:
        return None, None
    return sweep, panel


def _occlusion(window, model, current, options) -> dict:
    from workbench.core.occlusion import parse_fill

    sweep, panel = _finished_sweep(window, model)
    if sweep is None or (sweep.window, sweep.stride) != (options.window, options.stride):
        return {}
    if panel.sweep_used_fill != parse_fill(options.fill):
        return {}
    if int(sweep.target) != int(np.argmax(sweep.base_probs)):  # the report explains top-1
        return {}
    return {reuse_key("occlusion", current): sweep}


def _occlusion_choice(window, model):
    sweep, panel = _finished_sweep(window, model)
    if sweep is None:
        return None
    fill = panel.sweep_used_fill
    return ({"window": int(sweep.window), "stride": int(sweep.stride), "fill": str(fill)},
            f"the Occlusion tab's sweep: window {sweep.window}, stride {sweep.stride}")


def _model_table(window, model, current, options) -> dict:
    panel = _panel(window, "Inspector")
    table = getattr(panel, "table", None)
    if table is None or getattr(panel, "_table_model", None) is not model:
        return {}
    return {reuse_key("model", current): table}


# ------------------------------------------------------------------ adversarial
def _last_attack(window, model):
    panel = _panel(window, "Adversarial")
    last = panel.last_attack() if panel is not None else None
    if last is None or last[1] is not model or model.kind != "image":
        return None
    return last


def _adversarial(window, model, current, options) -> dict:
    from workbench.core.adversarial import get_attack
    from workbench.core.adversarial.base import describe_params
    from workbench.core.report.sections import attack_overrides

    last = _last_attack(window, model)
    if last is None:
        return {}
    result, _model, image, goal = last
    if not _same_image(image, current.image) or result.method != options.attack:
        return {}
    if goal != options.attack_target:
        return {}
    used = describe_params(result.params)
    wanted = attack_overrides(get_attack(result.method), options)
    if any(k not in used or not _close(used[k], v) for k, v in wanted.items()):
        return {}
    return {reuse_key("adversarial", current): result}


def _attack_choice(window, model):
    from workbench.core.adversarial import get_attack
    from workbench.core.adversarial.base import describe_params

    last = _last_attack(window, model)
    if last is None or not _same_image(last[2], window.state.image):
        return None
    result, _model, _image, goal = last
    params = describe_params(result.params)
    overrides = {"attack": result.method, "attack_target": goal,
                 "attack_params": {k: v for k, v in params.items() if k not in ("eps", "steps")},
                 "attack_steps": params.get("steps")}
    budget = ""
    if "eps" in params:
        overrides["eps"] = float(params["eps"])
        budget = f", {params['eps'] * 255:g}/255"
    return overrides, f"the Adversarial tab's {get_attack(result.method).title}{budget}"


# ------------------------------------------------------------------ feature visualization
def _featviz_run(window, model):
    from workbench.core.featureviz import Channel

    panel = _panel(window, "Feature visualization")
    run = panel.last_run() if panel is not None else None
    if run is None or run["model"] is not model or type(run["objective"]) is not Channel:
        return None
    return run if run["start"] == "noise" else None


def _featviz(window, model, current, options) -> dict:
    from dataclasses import asdict

    from workbench.core.featureviz import FeatureVizConfig
    from workbench.core.params import make

    run = _featviz_run(window, model)
    if run is None:
        return {}
    layer = options.featviz_layer or options.layer or model.default_cam_layer
    objective = run["objective"]
    asked = (layer, options.channel, options.featviz_steps, options.featviz_size,
             options.featviz_seed)
    if (objective.layer, objective.channel, run["steps"], run["size"], run["seed"]) != asked:
        return {}
    config = asdict(make(FeatureVizConfig, options.featviz_config))
    if any(not _close(run["config"].get(k), v) for k, v in config.items()):
        return {}
    return {reuse_key("featviz", current): run["snapshot"]}


def _featviz_choice(window, model):
    run = _featviz_run(window, model)
    if run is None:
        return None
    objective = run["objective"]
    return ({"featviz_layer": objective.layer, "channel": objective.channel,
             "featviz_steps": run["steps"], "featviz_size": run["size"],
             "featviz_seed": run["seed"], "featviz_config": dict(run["config"])},
            f"the tab's channel {objective.channel} of {objective.layer}, {run['steps']} steps")


# ------------------------------------------------------------------ embedding
def _map_panel(window, model):
    panel = _panel(window, "Embeddings")
    data = getattr(panel, "map_data", None)
    if data is None or getattr(panel, "map_model", None) is not model:
        return None
    spec = panel.map_spec
    dataset = "digits" if spec.kind == "digits" else spec.path if spec.kind == "folder" else ""
    return (panel, data, dataset) if dataset else None


def _default_projection(data) -> bool:
    from workbench.core.embedding import REDUCERS
    from workbench.core.params import make

    params_cls = REDUCERS[data.method].params_cls
    return params_cls is None or data.projection.params == make(params_cls, {})


def _embedding(window, model, current, options) -> dict:
    from workbench.core.embedding import default_layer
    from workbench.core.report import EmbeddingPrior

    found = _map_panel(window, model)
    if found is None:
        return {}
    panel, data, dataset = found
    asked = options.embed_dataset
    if asked == "auto":
        asked = "digits" if "digits" in model.name else "samples"
    if dataset != asked or data.method != options.embed_method or not _default_projection(data):
        return {}
    if data.layer != (options.embed_layer or default_layer(model)):
        return {}
    prior = EmbeddingPrior(data.dataset, panel.feature_set(), panel.projection())
    query = getattr(panel, "query", None)
    if query is not None and _same_image(query[0], current.image):
        prior.query = query[1]
        if panel.neighbours is not None and panel.neighbours_of == ("image", options.metric):
            prior.neighbours = (panel.neighbours[1], panel.neighbours[2])
    return {reuse_key("embedding", current): prior}


def _embedding_choice(window, model):
    found = _map_panel(window, model)
    if found is None or not _default_projection(found[1]):
        return None
    panel, data, dataset = found
    metric = panel.neighbours_of[1] if panel.neighbours_of else panel.metric_combo.currentText()
    return ({"embed_dataset": dataset, "embed_layer": data.layer, "embed_method": data.method,
             "metric": metric, "neighbours": int(panel.k.value())},
            f"the tab's {data.method.upper()} map of {data.layer}")


# ------------------------------------------------------------------ video
def _timeline(window, model):
    panel = _panel(window, "Video")
    finished = panel.finished_predictions() if panel is not None else None
    if finished is None or finished[2] is not model or hasattr(finished[0], "starts"):
        return None  # clip predictions are not the section's per-frame ones
    result, path, _model = finished
    info = panel.info if panel.path == path else None
    if info is None:
        from workbench.io.video import read_info

        info = read_info(path)
    return result, str(Path(path)), info


def _video(window, model, current, options) -> dict:
    from workbench.core.report import video_frames

    found = _timeline(window, model)
    if found is None:
        return {}
    result, path, info = found
    if not np.array_equal(np.asarray(result.indices), video_frames(info, options)):
        return {}
    return {reuse_key("video", ReportInput(Path(path).name, None, path, video=True)): result}


def _video_choice(window, model):
    found = _timeline(window, model)
    if found is None:
        return None
    indices = np.asarray(found[0].indices)
    steps = np.unique(np.diff(indices))
    if len(indices) < 2 or len(steps) != 1:
        return None
    every = int(steps[0])
    return ({"video_every": every, "video_span": (int(indices[0]), int(indices[-1]))},
            f"the Video tab's timeline of {Path(found[1]).name}, every {every} frames")
