"""View → Freeze results keeps what the tabs show while the input changes; unfreezing
brings them up to date."""

import numpy as np

from workbench.io.samples import sample_path

TIMEOUT = 60_000


def test_frozen_tabs_keep_their_results_until_unfrozen(qtbot, open_window):
    from workbench.ui.freeze import freeze

    win = open_window()
    predict, attribution = win.panel("Predict"), win.panel("Attribution")
    qtbot.waitUntil(lambda: predict.prediction is not None, timeout=TIMEOUT)
    bars = predict.chart._rows
    win.tabs.setCurrentWidget(attribution)
    qtbot.waitUntil(lambda: attribution.result is not None, timeout=TIMEOUT)
    qtbot.waitUntil(win.is_settled, timeout=TIMEOUT)
    heat = attribution.view.heat.copy()
    try:
        win.freeze_action.trigger()
        assert freeze.frozen and win.frozen_note.isVisible()
        win.inputs.add_paths([str(sample_path("coffee"))], select=True)
        qtbot.waitUntil(lambda: win.state.image_name.startswith("coffee"), timeout=TIMEOUT)
        qtbot.wait(200)
        qtbot.waitUntil(win.is_settled, timeout=TIMEOUT)
        assert np.array_equal(attribution.view.heat, heat)
        win.tabs.setCurrentWidget(predict)  # a tab shown while frozen keeps its bars too
        qtbot.wait(200)
        qtbot.waitUntil(win.is_settled, timeout=TIMEOUT)
        assert predict.chart._rows is bars
        assert "coffee" not in predict.detail.text()
    finally:
        win.freeze_action.trigger()
    assert not freeze.frozen and not win.frozen_note.isVisible()
    qtbot.waitUntil(lambda: predict.chart._rows is not bars, timeout=TIMEOUT)
    assert "coffee" in predict.detail.text()
    win.tabs.setCurrentWidget(attribution)
    qtbot.waitUntil(lambda: attribution.view.heat is not None
                    and attribution.view.heat.shape == heat.shape
                    and not np.array_equal(attribution.view.heat, heat), timeout=TIMEOUT)
