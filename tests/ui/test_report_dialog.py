"""*File → Report…*: the dialog lists the inputs and analyses; the report runs on the worker
(reusing what the tabs show), is saved, and says where; the dialog reads well in light and
dark."""

import os

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
