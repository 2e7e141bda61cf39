"""Save and restore the Feature visualization tab: the recipe (objective, layer, unit,
images, size, steps, seed, start, live settings) and the optimized images with their
objective curve, shown again without optimizing."""

from __future__ import annotations

import numpy as np

from workbench.ui import session_widgets as w

SPINS = ("channel", "neuron_x", "neuron_y", "diversity", "batch", "size_spin", "steps", "seed")


def capture(panel) -> tuple[dict, dict]:
    choices = {"kind": panel.kind.currentText(), "layer": panel.layer.currentData(),
               "class": w.class_index(panel.class_box), "negative": panel.negative.isChecked(),
               "start_from": panel.start_from.currentText(),
               "live": panel.live_form.values(), "recipe": panel.recipe,
               **{name: getattr(panel, name).value() for name in SPINS}}
    arrays = {}
    snapshot = panel.snapshot
    if snapshot is not None:
        choices["snapshot"] = {"step": snapshot.step, "loss": float(snapshot.loss),
                               "steps_per_second": float(snapshot.steps_per_second)}
        arrays = {"images": w.float32(snapshot.images), "values": w.float32(snapshot.values),
                  "history": np.asarray(panel.history, np.float64).reshape(-1, 2)}
    return choices, arrays


def restore(panel, choices: dict, arrays: dict) -> list[str]:
    problems: list[str] = []
    w.choose_text(panel.kind, choices.get("kind"), "objective", problems)
    w.choose_layer(panel.layer, choices.get("layer"), problems)
    panel.update_channel_range()
    for name in SPINS:
        w.set_value(getattr(panel, name), choices.get(name), name.replace("_", " "), problems)
    w.set_class(panel.class_box, choices.get("class"), problems)
    panel.negative.setChecked(bool(choices.get("negative")))
    w.choose_text(panel.start_from, choices.get("start_from"), "start", problems)
    w.set_form(panel.live_form, choices.get("live"), problems)
    _restore_images(panel, choices, arrays, problems)
    return problems


def _restore_images(panel, choices: dict, arrays: dict, problems: list[str]) -> None:
    saved = choices.get("snapshot")
    if not saved:
        return
    images = arrays.get("images")
    if images is None or "values" not in arrays or images.ndim != 4:
        problems.append("the optimized images could not be read: press Run again")
        return
    from workbench.core.featureviz.optimize import Snapshot

    snapshot = Snapshot(int(saved["step"]), images, arrays["values"], float(saved["loss"]),
                        float(saved["steps_per_second"]))
    panel.recipe = dict(choices.get("recipe") or {})
    panel._set_batch_views(len(images))
    panel._on_frame(snapshot)
    history = arrays.get("history")
    if history is not None and len(history):
        panel.history = [(int(s), float(v)) for s, v in history]
        panel.curve.setData(history[:, 0], history[:, 1])
    panel.status.setText(f"step {snapshot.step} · objective {snapshot.values.mean():.3f} · "
                         "restored from the session")
