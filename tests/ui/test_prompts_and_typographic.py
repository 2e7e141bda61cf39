"""A CLIP model in the window: its Prompts box relabels every tab, and the typographic page
writes a word on the picture (dragged with the mouse) and shows the prediction change."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from tests.tiny_clip import tiny_clip_dir

TIMEOUT = 60_000


@pytest.fixture
def win(qtbot, open_window, tmp_path):
    window = open_window("Predict")
    spec = f"clip:{tiny_clip_dir(tmp_path / 'tiny_clip')}:random"
    window.model_dock.load(spec)
    qtbot.waitUntil(lambda: window.state.model is not None
                    and window.state.model.name == spec, timeout=TIMEOUT)
    qtbot.waitUntil(window.is_settled, timeout=TIMEOUT)
    return window


def predict_panel(window):
    return next(p for p in window.panels if p.title == "Predict")


def test_prompts_box_relabels_predict(qtbot, win):
    box = win.model_dock.prompts
    assert box.isVisible() and "iPod" in box.text.toPlainText()
    combo = win.model_dock.model_combo
    assert combo.currentData() == win.state.model.name  # the combo names what is loaded
    visual = win.state.model.module.net.visual
    box.set_prompts("a cat, a dog, a teapot", "a picture of {}")
    qtbot.mouseClick(box.apply_button, Qt.MouseButton.LeftButton)
    panel = predict_panel(win)
    qtbot.waitUntil(lambda: panel.prediction is not None
                    and len(panel.prediction.probs) == 3, timeout=TIMEOUT)
    assert win.state.model.labels == ["a cat", "a dog", "a teapot"]
    assert {s.label for s in panel.prediction.top} == {"a cat", "a dog", "a teapot"}
    assert panel.headline.text().split(" · ")[0] in win.state.model.labels
    assert win.state.model.module.net.visual is visual  # the image encoder was kept
    assert box.template.text() == "a picture of {}"
    win.model_dock.load("digits_lenet")
    qtbot.waitUntil(lambda: win.state.model.name == "digits_lenet", timeout=TIMEOUT)
    assert not box.isVisible()


def drag(widget, start: QPointF, end: QPointF, steps: int = 6) -> None:
    """Press, move with the left button held, release — as a mouse does."""
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

    def send(kind, point, button, buttons):
        event = QMouseEvent(kind, point, widget.mapToGlobal(point), button, buttons,
                            Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(widget, event)

    send(QEvent.Type.MouseButtonPress, start, left, left)
    for i in range(1, steps + 1):
        send(QEvent.Type.MouseMove, start + (end - start) * (i / steps), none, left)
    send(QEvent.Type.MouseButtonRelease, end, left, none)


def to_widget(page, x, y) -> QPointF:
    scene = page.view.image_item.mapToScene(QPointF(x, y))
    point = page.view.canvas.mapFromScene(scene)
    return QPointF(QPoint(point.x(), point.y()))


def test_typographic_page_writes_and_drags(qtbot, win):
    panel = next(p for p in win.panels if p.title == "Adversarial")
    win.tabs.setCurrentIndex(win.panels.index(panel))
    page = panel.typographic
    panel.modes.setCurrentIndex(panel.modes.indexOf(page.views))
    qtbot.waitUntil(lambda: page.result is not None, timeout=TIMEOUT)
    image = win.state.image
    assert page.position == (image.shape[1] / 2, image.shape[0] / 2)
    first = page.result
    assert not np.allclose(first.written, image)  # the word is in the pixels
    assert not np.allclose(first.probs_before, first.probs_after)  # and the model saw it
    assert page.after.text() and page.verdict.text()
    assert not panel.method_box.isVisible()  # no attack method for a written word

    page.word.setText("teapot")
    page.size.setValue(90)
    qtbot.waitUntil(lambda: page.result is not first, timeout=TIMEOUT)
    second = page.result
    assert not np.allclose(second.probs_after, first.probs_after)

    qtbot.waitUntil(lambda: page.view.canvas.width() > 100, timeout=TIMEOUT)
    x0, y0 = page.position
    drag(page.view.canvas.viewport(), to_widget(page, x0, y0),
         to_widget(page, x0 * 0.5, y0 * 0.5))
    x1, y1 = page.position
    assert abs(x1 - x0 * 0.5) < 0.1 * x0 and abs(y1 - y0 * 0.5) < 0.1 * y0
    qtbot.waitUntil(lambda: page.result is not second, timeout=TIMEOUT)
    ink = np.abs(page.result.written - image).max(axis=2) > 0.01
    ys, xs = np.nonzero(ink)
    assert abs(xs.mean() - x1) < 0.15 * image.shape[1]
    assert abs(ys.mean() - y1) < 0.15 * image.shape[0]
