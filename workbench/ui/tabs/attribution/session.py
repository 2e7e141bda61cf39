"""Save and restore the Attribution tab: method, layer, parameters, target, display, the
view in front, and the map itself (shown again without recomputing)."""

from __future__ import annotations

from workbench.ui import session_widgets as w


def capture(panel) -> tuple[dict, dict]:
    choices = {"method": panel.current_method(), "layer": panel.layer_combo.currentData(),
               "params": panel.form.values(), "target": panel.targets.target,
               "live": panel.live.isChecked(), "display": w.style_of(panel.display),
               "view": panel.views.currentIndex()}
    arrays = {}
    result = panel.result
    if result is not None:
        choices["result"] = {"target": result.target, "label": result.label,
                             "method": result.method, "layer": result.layer,
                             "top": w.scores_json(result.top), "prob": result.prob,
                             "method_title": result.method_title, "seconds": result.seconds}
        arrays = {"heat": w.float32(result.heat), "input": w.float32(result.input_image)}
        if result.clip_heat is not None:
            arrays["clip_heat"] = w.float32(result.clip_heat)
    return choices, arrays


def restore(panel, choices: dict, arrays: dict) -> list[str]:
    problems: list[str] = []
    if not panel.methods:
        return ["no model is loaded: nothing restored"]
    with w.quiet(panel):
        w.choose_data(panel.method_combo, choices.get("method"), "method", problems)
        w.choose_layer(panel.layer_combo, choices.get("layer"), problems)
        w.set_form(panel.form, choices.get("params"), problems)
        panel.live.setChecked(bool(choices.get("live", True)))
        w.set_style(panel.display, choices.get("display"), problems)
        target = choices.get("target")
        if target is not None and not 0 <= int(target) < len(panel.targets.labels):
            problems.append(f"target class {target} does not exist in this model")
            target = None
        panel.targets.choose(target, emit=False)
        panel.grid.target = target
        panel.views.setCurrentIndex(int(choices.get("view", 0) or 0))
        _restore_map(panel, choices.get("result"), arrays, problems)
    return problems


def _restore_map(panel, saved: dict | None, arrays: dict, problems: list[str]) -> None:
    if not saved:
        return
    if "heat" not in arrays or "input" not in arrays:
        problems.append("the map could not be read: press Run to compute it again")
        return
    if saved.get("method") not in panel.methods:
        problems.append(f"the map's method '{saved.get('method')}' is not available")
        return
    from workbench.ui.tabs.attribution.jobs import MapResult

    result = MapResult(arrays["heat"], arrays["input"], int(saved["target"]),
                       str(saved["label"]), saved["method"], saved.get("layer"),
                       w.scores_from(saved.get("top")), float(saved.get("prob", "nan")),
                       saved.get("method_title", ""), float(saved.get("seconds", 0.0)),
                       arrays.get("clip_heat"))
    panel._show(panel.state.model, result)
    w.keep_result(panel)
