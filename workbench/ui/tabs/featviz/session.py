"""Save and restore the Feature visualization tab: the recipe (objective, layer, unit,
images, size, steps, seed, start, live settings), the optimized images with their
objective curve, and the dataset examples (the crops that excite the channel most), shown
again without optimizing or ranking."""

from __future__ import annotations

import numpy as np

from workbench.ui import session_widgets as w

SPINS = ("channel", "neuron_x", "neuron_y", "diversity", "batch", "size_spin", "steps", "seed")


def capture(panel) -> tuple[dict, dict]:
    choices = {"kind": panel.kind.currentText(), "layer": panel.layer.currentData(),
               "class": w.class_index(panel.class_box), "negative": panel.negative.isChecked(),
               "start_from": panel.start_from.currentText(),
               "live": panel.live_form.values(), "recipe": panel.recipe,
               "view": panel.view_tabs.currentIndex(),
               **{name: getattr(panel, name).value() for name in SPINS}}
    arrays = {}
    snapshot = panel.snapshot
    if snapshot is not None:
        choices["snapshot"] = {"step": snapshot.step, "loss": float(snapshot.loss),
                               "steps_per_second": float(snapshot.steps_per_second)}
        arrays = {"images": w.float32(snapshot.images), "values": w.float32(snapshot.values),
                  "history": np.asarray(panel.history, np.float64).reshape(-1, 2)}
    if panel.examples:
        shown = panel.example_views[:len(panel.examples)]
        choices["examples"] = {"status": panel.examples_status.text(),
                               "rows": [{"index": int(e.index), "score": float(e.score),
                                         "title": v.title.text()}
                                        for e, v in zip(panel.examples, shown, strict=False)]}
        for i, example in enumerate(panel.examples):
            arrays[f"example_{i}"] = w.float32(example.crop)
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
    _restore_examples(panel, choices.get("examples"), arrays, problems)
    panel.view_tabs.setCurrentIndex(int(choices.get("view", 0) or 0))
    return problems


def _restore_examples(panel, saved, arrays: dict, problems: list[str]) -> None:
    if not saved or not saved.get("rows"):
        return
    from workbench.core.featureviz.dataset_examples import Example

    rows = saved["rows"]
    crops = [arrays.get(f"example_{i}") for i in range(len(rows))]
    if any(crop is None or crop.ndim != 3 for crop in crops):
        problems.append("the dataset examples could not be read: rank them again")
        return
    examples = [Example(int(r["index"]), float(r["score"]), crop, crop)
                for r, crop in zip(rows, crops, strict=True)]
    names = {int(r["index"]): "" for r in rows}  # the titles are put back below
    panel._show_examples(panel.layer.currentData(), panel.channel.value(), names, examples)
    for view, row in zip(panel.example_views, rows, strict=False):
        view.set_title(str(row.get("title", "")))
    panel.examples_status.setText(str(saved.get("status", "")))


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
