"""Save and restore the Adversarial tab: the attack, its budget and parameters, the goal
and target class, the epsilon-sweep range, and the last attack's images (original,
perturbation, adversarial, their top classes and Grad-CAMs), shown again without
recomputing."""

from __future__ import annotations

from workbench.ui import session_widgets as w

VIEW_FIELDS = ("linf", "l2", "success", "quantized_fools", "target", "true_class", "method",
               "steps_run")


def capture(panel) -> tuple[dict, dict]:
    choices = {"method": panel.method.currentData(), "params": panel.form.values(),
               "goal": panel.target_mode.currentText(),
               "target_class": w.class_index(panel.target_class),
               "amplification": panel.amplification.value(), "mode": panel.modes.currentIndex(),
               "eps_from": panel.eps_from.value(), "eps_to": panel.eps_to.value(),
               "eps_count": panel.eps_count.value()}
    arrays = {}
    view = panel.result
    if view is not None:
        extras = {k: v.as_dict() for k, v in view.extras.items() if hasattr(v, "as_dict")}
        choices["result"] = {**{k: getattr(view, k) for k in VIEW_FIELDS},
                             "before": w.scores_json(view.before),
                             "after": w.scores_json(view.after),
                             "quantized_top": view.quantized_top.as_dict(), "extras": extras}
        arrays = {"original": w.float32(view.original),
                  "adversarial": w.float32(view.adversarial),
                  "perturbation": w.float32(view.perturbation)}
        cams = [v.heat for v in panel.cam_views]
        if all(heat is not None for heat in cams):
            choices["cam_labels"] = [v.title.text().split(": ", 1)[-1] for v in panel.cam_views]
            arrays.update(cam_original=w.float32(cams[0]), cam_adversarial=w.float32(cams[1]))
    return choices, arrays


def restore(panel, choices: dict, arrays: dict) -> list[str]:
    problems: list[str] = []
    if not panel.methods:
        return ["no model is loaded: nothing restored"]
    w.choose_data(panel.method, choices.get("method"), "attack", problems)
    w.set_form(panel.form, choices.get("params"), problems)
    w.choose_text(panel.target_mode, choices.get("goal"), "goal", problems)
    w.set_class(panel.target_class, choices.get("target_class"), problems)
    for name in ("amplification", "eps_from", "eps_to", "eps_count"):
        w.set_value(getattr(panel, name), choices.get(name), name.replace("_", " "), problems)
    panel.modes.setCurrentIndex(int(choices.get("mode", 0) or 0))
    _restore_attack(panel, choices, arrays, problems)
    return problems


def _restore_attack(panel, choices: dict, arrays: dict, problems: list[str]) -> None:
    saved = choices.get("result")
    if not saved:
        return
    if any(name not in arrays for name in ("original", "adversarial", "perturbation")):
        problems.append("the adversarial image could not be read: press Run attack again")
        return
    if saved.get("method") not in panel.methods:
        problems.append(f"the attack '{saved.get('method')}' is not available")
        return
    from workbench.ui.tabs.adversarial.jobs import AttackView

    extras = {k: w.score_from(v) for k, v in (saved.get("extras") or {}).items()}
    panel.result = AttackView(
        arrays["original"], arrays["adversarial"], arrays["perturbation"], float(saved["linf"]),
        float(saved["l2"]), w.scores_from(saved["before"]), w.scores_from(saved["after"]),
        bool(saved["success"]), bool(saved["quantized_fools"]),
        w.score_from(saved["quantized_top"]), saved.get("target"), int(saved["true_class"]),
        saved["method"], int(saved["steps_run"]), extras)
    panel.attacks.show()
    cams = arrays.get("cam_original"), arrays.get("cam_adversarial")
    if all(cam is not None for cam in cams) and choices.get("cam_labels"):
        panel.attacks.show_cams((list(cams), list(choices["cam_labels"])))
