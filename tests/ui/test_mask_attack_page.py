"""The Adversarial tab's target-mask page (a segmenter made to output a chosen mask): it
segments the picture, takes a painted shape of a chosen class as the target, runs the
attack on the worker and shows the result; with a classifier it says what it needs."""

from __future__ import annotations

import numpy as np

from tests.core.tasks.toys import SIZE, toy_segmenter

TIMEOUT = 60_000


def adversarial_panel(window):
    return next(p for p in window.panels if p.title == "Adversarial")


def test_paint_a_shape_and_run(qtbot, open_window):
    window = open_window("Adversarial")
    panel = adversarial_panel(window)
    page = panel.masks
    panel.modes.setCurrentIndex(panel.modes.indexOf(page.views))
    assert "segmentation model" in page.verdict.text()  # the classifier loaded first
    assert not panel.method_box.isVisible()
    window.state.set_model(toy_segmenter())
    qtbot.waitUntil(lambda: page.prediction is not None, timeout=TIMEOUT)
    picture, predicted = page.prediction
    assert picture.shape[:2] == SIZE and predicted.shape == SIZE
    shape = np.zeros(SIZE, dtype=bool)
    shape[8:24, 12:36] = True
    page.canvas.set_mask(shape)
    page.into.setCurrentIndex(2)
    target = page.target()
    assert (target[shape] == 2).all() and (target[~shape] == predicted[~shape]).all()
    page.form.editors["steps"].setValue(10)
    page.run_button.click()
    qtbot.waitUntil(lambda: page.result is not None, timeout=TIMEOUT)
    result = page.result
    assert result.after.shape == SIZE and result.linf <= 8 / 255 + 1e-6 and result.steps <= 10
    assert "of the pixels take the target class" in page.verdict.text()
    assert page.after_view.image is not None
