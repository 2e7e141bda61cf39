"""Save and restore the Occlusion tab: the painted mask, brush and fill, the sweep's
window, stride and fill, the target, the display, and the sweep's maps (drawn again
without recomputing)."""

from __future__ import annotations

import numpy as np

from workbench.ui import session_widgets as w

SWEEP_FIELDS = ("target", "window", "stride", "done")


def _fill_value(picker):
    return picker.value()


def _set_fill(picker, value, problems: list[str]) -> None:
    if value is None:
        return
    if isinstance(value, (int, float)):
        picker.mode.setCurrentText("level")
        picker.level.setValue(float(value))
    else:
        w.choose_text(picker.mode, value, "fill", problems)


def capture(panel) -> tuple[dict, dict]:
    choices = {"mode": panel.modes.currentIndex(), "target": panel.targets.target,
               "brush": panel.brush.value(), "tool": panel.canvas.tool,
               "fill": _fill_value(panel.fill), "sweep_fill": _fill_value(panel.sweep_fill),
               "sweep_params": panel.sweep_form.values(),
               "display": w.style_of(panel.display),
               "show_model_view": panel.show_model_view.isChecked()}
    arrays = {}
    if panel.base is not None:
        arrays["base_picture"] = w.float32(panel.base[0])
        arrays["base_probs"] = w.float32(panel.base[1])
        arrays["mask"] = np.asarray(panel.canvas.mask, bool)
    sweep = panel.sweep
    if sweep is not None:
        choices["sweep"] = {**{k: getattr(sweep, k) for k in SWEEP_FIELDS},
                            "input_size": list(sweep.input_size)}
        arrays.update(sweep_base_probs=w.float32(sweep.base_probs),
                      sweep_target_prob=w.float32(sweep.target_prob),
                      sweep_top_class=np.asarray(sweep.top_class, np.int64),
                      sweep_top_prob=w.float32(sweep.top_prob))
    return choices, arrays


def restore(panel, choices: dict, arrays: dict) -> list[str]:
    problems: list[str] = []
    with w.quiet(panel):
        panel.modes.setCurrentIndex(int(choices.get("mode", 0) or 0))
        w.set_value(panel.brush, choices.get("brush"), "brush size", problems)
        _restore_tool(panel, choices.get("tool"))
        _set_fill(panel.fill, choices.get("fill"), problems)
        _set_fill(panel.sweep_fill, choices.get("sweep_fill"), problems)
        w.set_form(panel.sweep_form, choices.get("sweep_params"), problems)
        w.set_style(panel.display, choices.get("display"), problems)
        _restore_target(panel, choices.get("target"), problems)
        if _restore_base(panel, arrays, problems):
            panel.show_model_view.setChecked(bool(choices.get("show_model_view")))
            _restore_sweep(panel, choices.get("sweep"), arrays, problems)
    return problems


def _restore_tool(panel, tool) -> None:
    for button in panel.tool_buttons.buttons():
        if button.objectName() == f"tool-{tool}":
            button.click()


def _restore_target(panel, target, problems: list[str]) -> None:
    labels = panel.targets.labels
    if target is not None and not 0 <= int(target) < len(labels):
        problems.append(f"target class {target} does not exist in this model")
        target = None
    panel.targets.choose(target, emit=False)


def _restore_base(panel, arrays: dict, problems: list[str]) -> bool:
    """The unmasked model input and its probabilities, then the mask over it."""
    model, image = panel.state.model, panel.state.model_image()
    picture, probs = arrays.get("base_picture"), arrays.get("base_probs")
    if picture is None or probs is None or model is None or image is None:
        return False
    if probs.shape != (model.num_classes,):
        problems.append("the saved prediction does not fit this model: not restored")
        return False
    panel._on_base(model, image, (picture, probs))
    mask = arrays.get("mask")
    if mask is not None and mask.shape == panel.canvas.mask.shape:
        panel.canvas.set_mask(mask.astype(bool), record=False)
    elif mask is not None:
        problems.append("the painted mask does not fit this input: not restored")
    w.keep_result(panel)
    return True


def _restore_sweep(panel, saved, arrays: dict, problems: list[str]) -> None:
    if not saved:
        return
    names = ("sweep_base_probs", "sweep_target_prob", "sweep_top_class", "sweep_top_prob")
    if any(name not in arrays for name in names):
        problems.append("the sweep's maps could not be read: press Run to sweep again")
        return
    from workbench.core.occlusion.sliding import OcclusionResult

    base_probs, target_prob, top_class, top_prob = (arrays[name] for name in names)
    result = OcclusionResult(int(saved["target"]), base_probs, target_prob, top_class,
                             top_prob, int(saved["window"]), int(saved["stride"]),
                             tuple(int(v) for v in saved["input_size"]), int(saved["done"]))
    panel._on_sweep(result)
    state = "done" if result.done >= result.total else "stopped"
    panel.sweep_status.setText(f"{state}: {result.done} / {result.total} windows (restored)")
