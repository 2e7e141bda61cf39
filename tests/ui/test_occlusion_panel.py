"""The Occlusion tab: paint with the mouse, watch the prediction, undo; sweep and stop."""

import time

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

TIMEOUT = 60_000


@pytest.fixture
def panel(qtbot, open_window):
    win = open_window("Occlusion")
    occlusion = win.panel("Occlusion")
    qtbot.waitUntil(lambda: occlusion.masked is not None, timeout=TIMEOUT)
    qtbot.waitUntil(win.is_settled, timeout=TIMEOUT)
    occlusion.window_ = win
    return occlusion


def send(widget, kind, point, button, buttons):
    event = QMouseEvent(kind, QPointF(point), QPointF(widget.mapToGlobal(point)), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def drag(canvas, points):
    """A left-button drag through image-pixel ``points`` on the canvas."""
    viewport = canvas.canvas.viewport()
    where = [canvas.image_to_widget(x, y) for x, y in points]
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    send(viewport, QEvent.Type.MouseButtonPress, where[0], left, left)
    for point in where[1:]:
        time.sleep(0.015)  # pyqtgraph drops mouse moves closer than 10 ms apart
        send(viewport, QEvent.Type.MouseMove, point, none, left)
    send(viewport, QEvent.Type.MouseButtonRelease, where[-1], left, none)


def click(canvas, x, y):
    viewport = canvas.canvas.viewport()
    point = canvas.image_to_widget(x, y)
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    send(viewport, QEvent.Type.MouseButtonPress, point, left, left)
    send(viewport, QEvent.Type.MouseButtonRelease, point, left, none)


def settle(qtbot, panel):
    qtbot.waitUntil(panel.window_.is_settled, timeout=TIMEOUT)


def test_brush_stroke_predicts_and_undo_restores(qtbot, panel):
    canvas = panel.canvas
    assert canvas.mask.shape == (224, 224) and not canvas.mask.any()
    before = panel.masked
    drag(canvas, [(40, 100), (80, 100), (120, 100), (160, 100), (200, 100)])
    assert canvas.mask.sum() > 2000
    assert canvas.mask[100, 120] and not canvas.mask[10, 10]
    qtbot.waitUntil(lambda: panel.masked is not before, timeout=TIMEOUT)
    settle(qtbot, panel)
    changed = panel.masked
    assert np.abs(changed.probs - changed.base_probs).max() > 1e-4
    assert "→" in panel.target_label.text()
    canvas.undo()
    assert not canvas.mask.any()
    qtbot.waitUntil(lambda: panel.masked is not changed, timeout=TIMEOUT)
    settle(qtbot, panel)
    np.testing.assert_allclose(panel.masked.probs, panel.masked.base_probs, atol=1e-5)
    canvas.redo()
    assert canvas.mask.sum() > 2000


def test_rectangle_lasso_eraser_invert_clear(qtbot, panel):
    canvas = panel.canvas
    canvas.tool = "rectangle"
    drag(canvas, [(20, 30), (60, 50), (100, 80)])
    assert canvas.mask[31:79, 21:99].all() and not canvas.mask[90:, :].any()
    canvas.tool = "eraser"
    drag(canvas, [(60, 55), (61, 55), (62, 56)])
    assert not canvas.mask[55, 60]
    canvas.clear()
    canvas.tool = "lasso"
    drag(canvas, [(150, 150), (200, 150), (200, 200), (150, 200)])
    assert canvas.mask[175, 175] and not canvas.mask[140, 140]
    canvas.invert()
    assert not canvas.mask[175, 175] and canvas.mask[140, 140]
    settle(qtbot, panel)


def test_superpixel_click_hides_a_region(qtbot, panel):
    canvas = panel.canvas
    canvas.tool = "superpixel"
    click(canvas, 112, 112)
    hidden = int(canvas.mask.sum())
    assert 100 < hidden < 224 * 224 // 4
    assert canvas.mask[112, 112]
    click(canvas, 112, 112)  # clicking it again shows it again
    assert not canvas.mask.any()
    settle(qtbot, panel)


def test_mask_save_load_and_fill(qtbot, panel, tmp_path):
    canvas = panel.canvas
    mask = np.zeros((224, 224), bool)
    mask[50:100, 60:160] = True
    canvas.set_mask(mask)
    path = panel.save_mask(str(tmp_path / "mask.png"))
    canvas.clear()
    panel.load_mask(path)
    np.testing.assert_array_equal(canvas.mask, mask)
    panel.fill.mode.setCurrentText("black")
    settle(qtbot, panel)
    assert np.allclose(panel.masked.masked_image[70, 100], 0.0)
    panel.load_mask(str(tmp_path / "missing.png"))
    errors = [m for _, m, e in panel.window_.status.messages if e]
    assert any("missing.png" in m for m in errors)


def test_sweep_fills_and_stop_keeps_what_was_done(qtbot, panel, tmp_path):
    panel.modes.setCurrentIndex(1)
    panel.sweep_form.editors["window"].setValue(56)
    panel.sweep_form.editors["stride"].setValue(56)
    panel.run_sweep()
    qtbot.waitUntil(lambda: panel.sweep_status.text().startswith("done"), timeout=TIMEOUT)
    assert panel.sweep.target_prob.shape == (4, 4) and panel.sweep.done == 16
    assert any(name == "Egyptian cat" for _i, name, _c, _n in panel.legend.entries)
    grid = np.load(panel.export_grid(str(tmp_path / "grid.npy")))
    assert grid.shape == (4, 4) and grid.dtype == np.float32
    assert panel.export_figure(str(tmp_path / "figure.png"))

    panel.sweep_form.editors["window"].setValue(16)
    panel.sweep_form.editors["stride"].setValue(2)
    panel.sweep_form.editors["batch_size"].setValue(8)
    panel.run_sweep()
    qtbot.waitUntil(lambda: panel.sweep is not None and panel.sweep.done >= 16, timeout=TIMEOUT)
    panel.runner.cancel(panel._sweep_handle)
    qtbot.waitUntil(lambda: panel.sweep_status.text().startswith("stopped"), timeout=TIMEOUT)
    kept = panel.sweep
    assert 0 < kept.done < kept.total
    assert np.isfinite(kept.target_prob).sum() == kept.done


def test_every_sweep_map_puts_a_window_where_it_was_applied(qtbot, panel):
    """Window 48 / stride 8: window (i, j) is centred at i·8 + 24 in all three maps."""
    panel.modes.setCurrentIndex(1)
    panel.sweep_form.editors["window"].setValue(48)
    panel.sweep_form.editors["stride"].setValue(8)
    panel.sweep_form.editors["batch_size"].setValue(64)
    panel.run_sweep()
    qtbot.waitUntil(lambda: panel.sweep_status.text().startswith("done"), timeout=TIMEOUT)
    rows = (224 - 48) // 8 + 1
    assert panel.sweep.target_prob.shape == (rows, rows)
    for view in (panel.drop_view, panel.class_view, panel.winner_view):
        item = view.overlay
        assert item.image.shape[:2] == (rows, rows)
        for i, j in ((0, 0), (5, 11), (rows - 1, rows - 1)):
            centre = item.mapToView(QPointF(j + 0.5, i + 0.5))  # where cell (i, j) is drawn
            assert (centre.x(), centre.y()) == (pytest.approx(j * 8 + 24),
                                                pytest.approx(i * 8 + 24))
        corner = item.mapToView(QPointF(0, 0))
        assert (corner.x(), corner.y()) == (pytest.approx(20), pytest.approx(20))
    assert panel.drop_view.colorbar.isVisible() and panel.winner_view.colorbar.isVisible()
