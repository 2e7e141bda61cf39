"""*File → Report…*: the dialog lists the inputs and analyses; the report runs on the worker
(reusing what the tabs show), is saved, and says where; the dialog reads well in light and
dark."""

import os

import numpy as np
import pytest

from workbench.core.report import ReportOptions

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_dialog_lists_inputs_and_sections(open_window, tmp_path):
    from workbench.ui.report_dialog import ReportDialog

    win = open_window(tab="Predict")
    dialog = ReportDialog(win)
    assert dialog.inputs.count() >= 1
    assert [r.name for r in dialog.chosen_records()] == [win.inputs.current_record().name]
    assert dialog.sections() == ["predict", "gradcam", "occlusion"]
    assert dialog.layer.count() > 1
    dialog.format.setCurrentIndex(2)
    assert [p.suffix for p in dialog.outputs()] == [".pdf", ".html"]
    menu = [a.text() for a in win.menuBar().actions()[0].menu().actions()]
    assert "&Report…" in menu
    from PySide6.QtWidgets import QApplication

    for dark in (False, True):
        if win.dark_action.isChecked() != dark:
            win.dark_action.trigger()
        dialog.resize(dialog.sizeHint())
        QApplication.processEvents()
        shot = os.environ.get("WORKBENCH_REPORT_SHOTS")
        if shot:
            dialog.grab().save(os.path.join(shot, f"report_dialog_{'dark' if dark else 'light'}"
                                                  ".png"))
    win.dark_action.trigger()  # back to light
    dialog.close()


def test_report_runs_on_the_worker_reuses_and_says_saved(open_window, qtbot, tmp_path,
                                                         monkeypatch):
    import workbench.core.predict as predict
    from workbench.core.report import ReportInput
    from workbench.ui.report_dialog import submit_report
    from workbench.ui.report_reuse import collect_reuse

    win = open_window(tab="Predict")
    qtbot.waitUntil(lambda: win.panel("Predict").prediction is not None, timeout=60_000)
    record = win.inputs.current_record()
    reuse = collect_reuse(win, ReportInput(record.name, win.state.image, record.path))
    assert ("predict", record.path or record.name) in reuse
    computed = []

    real = predict.predict_pixels
    monkeypatch.setattr(predict, "predict_pixels",
                        lambda *a, **k: computed.append(1) or real(*a, **k))
    messages = []
    win.state.message.connect(lambda text, error: messages.append((text, error)))
    out = tmp_path / "report.pdf"
    handle = submit_report(win, [record], ["predict", "model"], ReportOptions(), [out])
    assert handle is not None
    qtbot.waitUntil(lambda: any("Saved" in m for m, _ in messages), timeout=60_000)
    assert out.is_file() and out.read_bytes().startswith(b"%PDF")
    assert computed == []  # the Predict tab's result was reused
    assert (f"Saved {out}", False) in messages


def test_report_reuses_attack_featviz_map_and_timeline(open_window, qtbot, tmp_path,
                                                       monkeypatch):
    """After an attack, a feature visualization, an embedding map and a video timeline in the
    tabs, a report with those sections runs none of them again and shows their numbers."""
    import workbench.core.adversarial as adversarial
    import workbench.core.embedding as embedding
    import workbench.core.featureviz as featureviz
    import workbench.core.report as report_core
    import workbench.core.video as video_core
    from workbench.io.samples import sample_path
    from workbench.ui.report_dialog import ReportDialog, submit_report

    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    win = open_window(tab="Adversarial")
    win.model_dock.load("digits_lenet")
    qtbot.waitUntil(lambda: win.state.model.name == "digits_lenet" and win.is_settled(),
                    timeout=60_000)
    model, picture = win.state.model, win.inputs.current_record()
    # the timeline of the carphone sample, every 24th frame
    win.inputs.add_paths([str(sample_path("carphone"))], select=True)
    video = win.panel("Video")
    qtbot.waitUntil(lambda: video.info is not None and win.is_settled(), timeout=60_000)
    clip = win.inputs.current_record()
    video.every.setValue(24)
    video.run_predictions()
    qtbot.waitUntil(lambda: video.finished_predictions() is not None, timeout=60_000)
    win.inputs.select(picture.id)
    qtbot.waitUntil(lambda: win.state.video_path is None and win.is_settled(), timeout=60_000)
    # FGSM at 8/255
    attacks = win.panel("Adversarial")
    attacks.method.setCurrentIndex(attacks.method.findData("fgsm"))
    attacks.run_attack()
    qtbot.waitUntil(lambda: attacks.last_attack() is not None, timeout=60_000)
    # a short feature visualization
    featviz = win.panel("Feature visualization")
    featviz.choose_layer(model.default_cam_layer)
    featviz.update_channel_range()
    featviz.channel.setValue(1)
    featviz.size_spin.setValue(32)
    featviz.steps.setValue(4)
    featviz.run()
    qtbot.waitUntil(lambda: featviz.last_run() is not None, timeout=60_000)
    # the digits map with the neighbours of the open image
    embeddings = win.panel("Embeddings")
    embeddings.build()
    qtbot.waitUntil(lambda: embeddings.map_data is not None, timeout=60_000)
    embeddings.neighbours_of_current()
    qtbot.waitUntil(lambda: embeddings.neighbours_of is not None, timeout=60_000)
    qtbot.waitUntil(win.is_settled, timeout=60_000)

    dialog = ReportDialog(win)
    options = dialog.options()
    assert "the Adversarial tab's FGSM" in dialog.analyses["adversarial"].text()
    assert (options.featviz_steps, options.channel, options.video_every) == (4, 1, 24)
    dialog.close()
    calls = []
    for module, name in ((adversarial, "attack"), (featureviz, "run_to_end"),
                         (embedding, "cached_features"), (embedding, "extract_features"),
                         (embedding, "project"), (video_core, "frame_predictions")):
        monkeypatch.setattr(module, name, lambda *a, _n=name, **k: calls.append(_n))
    made = []
    real = report_core.build_report
    monkeypatch.setattr(report_core, "build_report",
                        lambda *a, **k: made.append(real(*a, **k)) or made[-1])
    messages = []
    win.state.message.connect(lambda text, error: messages.append((text, error)))
    out, timeline = tmp_path / "report.html", tmp_path / "timeline.html"
    # a video input also gives its frame 0 to the picture sections: the video on its own
    for records, names, path in (([picture], ["adversarial", "featviz", "embedding"], out),
                                 ([clip], ["video"], timeline)):
        submit_report(win, records, names, options, [path])
        qtbot.waitUntil(lambda p=path: any(m.startswith((f"Saved {p}", "Report failed"))
                                           for m, _ in messages), timeout=60_000)
    assert (f"Saved {out}", False) in messages and (f"Saved {timeline}", False) in messages
    assert calls == []
    sections = {s.kind: s for report in made for s in report.sections}
    assert all(s.reused for s in sections.values()) and len(sections) == 4
    numbers = {r["quantity"]: r["value"] for r in sections["adversarial"].numbers}
    assert numbers["L∞ (pixel units)"] == pytest.approx(attacks.result.linf)
    assert sections["featviz"].params["steps"] == featviz.snapshot.step == 4
    _title, found, distances = embeddings.neighbours
    rows = sections["embedding"].numbers
    assert [r["cosine distance"] for r in rows] == pytest.approx(list(distances[:len(rows)]))
    assert sections["embedding"].params["points"] == len(embeddings.map_data.coords)
    shown = video.finished_predictions()[0]
    assert sections["video"].params["frames"] == len(shown.indices)
    top = int(np.argmax(shown.probs.mean(axis=0)))
    assert sections["video"].numbers[0]["class"] == top
    html = out.read_text()
    assert "FGSM" in html and f"{numbers['L∞ (/255)']:.4g}" in html
