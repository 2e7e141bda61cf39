"""Save and restore the Adversarial tab: the attack, its budget and parameters, the goal
and target class, the epsilon-sweep range, the patch's settings, and what was computed,
shown again without recomputing: the last attack's images (original, perturbation,
adversarial, their top classes and Grad-CAMs), the epsilon sweep's curves and images, and
the trained patch with its success curve and the image it was last pasted on."""

from __future__ import annotations

import numpy as np

from workbench.ui import session_widgets as w

VIEW_FIELDS = ("linf", "l2", "success", "quantized_fools", "target", "true_class", "method",
               "steps_run")


def capture(panel) -> tuple[dict, dict]:
    choices = {"method": panel.method.currentData(), "params": panel.form.values(),
               "goal": panel.target_mode.currentText(),
               "target_class": w.class_index(panel.target_class),
               "amplification": panel.amplification.value(), "mode": panel.modes.currentIndex(),
               "eps_from": panel.eps_from.value(), "eps_to": panel.eps_to.value(),
               "eps_count": panel.eps_count.value(),
               "patch_target": w.class_index(panel.patch_target),
               "patch_params": panel.patch_form.values(),
               "patch_source": panel.patch_source.currentIndex(),
               "patch_scale": panel.patch_scale.value(), "patch_angle": panel.patch_angle.value()}
    arrays: dict = {}
    view = panel.result
    if view is not None:
        extras = {k: v.as_dict() for k, v in view.extras.items() if hasattr(v, "as_dict")}
        choices["result"] = {**{k: getattr(view, k) for k in VIEW_FIELDS},
                             "before": w.scores_json(view.before),
                             "after": w.scores_json(view.after),
                             "quantized_top": view.quantized_top.as_dict(), "extras": extras}
        arrays.update(original=w.float32(view.original),
                      adversarial=w.float32(view.adversarial),
                      perturbation=w.float32(view.perturbation))
        cams = [v.heat for v in panel.cam_views]
        if all(heat is not None for heat in cams):
            choices["cam_labels"] = [v.title.text().split(": ", 1)[-1] for v in panel.cam_views]
            arrays.update(cam_original=w.float32(cams[0]), cam_adversarial=w.float32(cams[1]))
    _capture_sweep(panel, choices, arrays)
    _capture_patch(panel, choices, arrays)
    return choices, arrays


def _capture_sweep(panel, choices: dict, arrays: dict) -> None:
    sweep = panel.sweep
    if sweep is None:
        return
    choices["sweep"] = {"top1": list(sweep.top1), "true_label": sweep.true_label,
                        "target_label": sweep.target_label}
    arrays.update(sweep_eps=np.asarray(sweep.eps, np.float64),
                  sweep_true_prob=w.float32(sweep.true_prob),
                  sweep_images=w.float32(sweep.images))
    if sweep.target_prob is not None:
        arrays["sweep_target_prob"] = w.float32(sweep.target_prob)
    if sweep.top1_prob is not None:
        arrays["sweep_top1_prob"] = w.float32(sweep.top1_prob)


def _capture_patch(panel, choices: dict, arrays: dict) -> None:
    if panel.patch is None:
        return
    patch, mask, history = panel.patch
    choices["patch"] = {"title": panel.patch_view.title.text()}
    arrays.update(patch_image=w.float32(patch), patch_mask=w.float32(mask),
                  patch_history=np.asarray(history, np.float64).reshape(-1))
    if panel.patched is not None:
        picture, scores = panel.patched
        choices["patch"]["pasted_scores"] = w.scores_json(scores)
        arrays["patch_pasted"] = w.float32(picture)


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
    w.set_class(panel.patch_target, choices.get("patch_target"), problems)
    w.set_form(panel.patch_form, choices.get("patch_params"), problems)
    panel.patch_source.setCurrentIndex(int(choices.get("patch_source", 0) or 0))
    for name in ("patch_scale", "patch_angle"):
        w.set_value(getattr(panel, name), choices.get(name), name.replace("_", " "), problems)
    panel.modes.setCurrentIndex(int(choices.get("mode", 0) or 0))
    _restore_attack(panel, choices, arrays, problems)
    _restore_sweep(panel, choices.get("sweep"), arrays, problems)
    _restore_patch(panel, choices.get("patch"), arrays, problems)
    return problems


def _restore_sweep(panel, saved, arrays: dict, problems: list[str]) -> None:
    if not saved:
        return
    names = ("sweep_eps", "sweep_true_prob", "sweep_images")
    if any(name not in arrays for name in names) or \
            len(arrays["sweep_images"]) != len(arrays["sweep_eps"]):
        problems.append("the epsilon sweep could not be read: press Run sweep again")
        return
    from workbench.ui.tabs.adversarial.jobs import SweepView

    panel._on_sweep(SweepView(arrays["sweep_eps"], arrays["sweep_true_prob"],
                              arrays.get("sweep_target_prob"), arrays["sweep_images"],
                              [str(label) for label in saved.get("top1", [])],
                              str(saved.get("true_label", "")), saved.get("target_label"),
                              arrays.get("sweep_top1_prob")))


def _restore_patch(panel, saved, arrays: dict, problems: list[str]) -> None:
    if not saved:
        return
    patch, mask = arrays.get("patch_image"), arrays.get("patch_mask")
    if patch is None or mask is None or patch.shape[:2] != mask.shape:
        problems.append("the trained patch could not be read: press Train patch again")
        return
    from workbench.ui.tabs.adversarial.patch_page import on_grey

    history = [float(v) for v in arrays.get("patch_history", np.zeros(0))]
    panel.patch = (patch, mask, history)
    panel.patch_view.set_image(on_grey(np.concatenate([patch, mask[..., None]], axis=2)))
    panel.patch_view.set_title(str(saved.get("title") or "patch"))
    panel.patches.history = list(enumerate(history, start=1))
    panel.patches._curve(np.arange(1, len(history) + 1), history)
    pasted = arrays.get("patch_pasted")
    if pasted is not None and "pasted_scores" in saved:
        panel.patches._pasted((pasted, w.scores_from(saved["pasted_scores"])))


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
