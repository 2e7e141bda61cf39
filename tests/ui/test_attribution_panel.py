"""The Attribution tab driven as a user would: method, layer, class, display, cancel, grid."""

import json
import threading

import numpy as np
import pytest
from PIL import Image

TIMEOUT = 60_000


@pytest.fixture
def panel(qtbot, open_window):
    win = open_window("Attribution")
    attribution = win.panel("Attribution")
    qtbot.waitUntil(lambda: attribution.result is not None, timeout=TIMEOUT)
    attribution.window_ = win
    return attribution


def settle(qtbot, panel):
    qtbot.waitUntil(panel.window_.is_settled, timeout=TIMEOUT)


def choose(combo, data):
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_default_map_is_gradcam_of_the_top1(panel):
    assert panel.result.method == "gradcam"
    assert panel.result.label == "Egyptian cat"
    assert panel.result.layer == "_act1"
    assert panel.view.overlay.image is not None
    assert panel.view.overlay.image.shape == (224, 224)
    assert panel.targets.top_list.count() == 5


def test_display_changes_do_not_recompute(qtbot, panel):
    result = panel.result
    jobs_before = panel.runner._ids
    panel.display.opacity.setValue(0.9)
    panel.display.colormap.setCurrentText("viridis")
    panel.display.threshold.setValue(0.5)
    panel.display.scaling.setCurrentIndex(panel.display.scaling.findData("raw"))
    assert panel.view.overlay.opacity() == pytest.approx(0.9)
    lut = panel.view.overlay.lut
    assert lut[0, 3] == 0 and lut[255, 3] == 255  # below threshold: transparent
    assert panel.runner.is_idle() and panel.result is result
    assert panel.runner._ids is jobs_before
    bar = panel.view.colorbar
    assert bar.isVisible() and bar.scale.scaling == "raw" and bar.scale.low == 0.0
    assert bar.scale.high == pytest.approx(float(result.heat.max()))
    assert bar.scale.units == "attribution value" and bar.threshold == pytest.approx(0.5)


def test_method_layer_and_class_choices(qtbot, panel):
    choose(panel.method_combo, "layercam")
    qtbot.waitUntil(lambda: panel.result.method == "layercam", timeout=TIMEOUT)
    choose(panel.layer_combo, "_blocks.10")
    qtbot.waitUntil(lambda: panel.result.layer == "_blocks.10", timeout=TIMEOUT)
    featviz = panel.window_.panel("Feature visualization")
    assert featviz.layer.currentData() != "_blocks.10"  # each tab keeps its own layer
    before = panel.result.heat.copy()
    tiger = [i for i in range(panel.targets.top_list.count())
             if panel.targets.top_list.item(i).text().startswith("tiger cat")][0]
    panel.targets.top_list.itemClicked.emit(panel.targets.top_list.item(tiger))
    qtbot.waitUntil(lambda: panel.result.label == "tiger cat", timeout=TIMEOUT)
    assert "tiger cat" in panel.view.title.text()
    assert not np.allclose(before, panel.result.heat)
    panel.targets.search.setText("tabby")
    panel.targets.search.returnPressed.emit()
    qtbot.waitUntil(lambda: panel.result.label == "tabby", timeout=TIMEOUT)


def test_parameter_form_reaches_the_method(qtbot, panel):
    choose(panel.method_combo, "smoothgrad")
    assert set(panel.form.editors) == {"samples", "noise", "batch_size", "seed"}
    panel.form.editors["samples"].setValue(2)
    qtbot.waitUntil(lambda: panel.result.method == "smoothgrad", timeout=TIMEOUT)
    settle(qtbot, panel)
    assert panel.layer_combo.isEnabled() is False


def test_slow_methods_wait_for_run_and_stop_cancels(qtbot, panel):
    result = panel.result
    started = threading.Event()
    panel.runner.started.connect(lambda _id: started.set())
    choose(panel.method_combo, "scorecam")  # 1280 channels: many seconds on a CPU
    assert panel.is_slow() and "press Run" in panel.estimate.text()
    assert panel.runner.is_idle() and not started.is_set()  # picking it started nothing
    panel.run_button.click()
    qtbot.waitUntil(started.is_set, timeout=TIMEOUT)
    panel.stop_button.click()
    qtbot.waitUntil(lambda: panel.view.title.text() == "stopped", timeout=TIMEOUT)
    settle(qtbot, panel)
    assert panel.result is result


def test_faithfulness_and_exports(qtbot, panel, tmp_path):
    panel.score_faithfulness()
    qtbot.waitUntil(lambda: panel.score is not None, timeout=TIMEOUT)
    assert "deletion AUC" in panel.score_label.text()
    figure = Image.open(panel.export_figure(str(tmp_path / "figure.png")))
    assert figure.width > 560 and "Grad-CAM" in figure.text["Title"]
    assert "efficientnet_lite0" in figure.text["Caption"]
    assert json.loads(figure.text["Provenance"])["layer"] == "_act1"
    svg = (tmp_path / "figure.svg").read_text() if panel.export_figure(
        str(tmp_path / "figure.svg")) else ""
    assert "<metadata>" in svg and "Grad-CAM" in svg
    raw = np.load(panel.export_map(str(tmp_path / "map.npy")))
    assert raw.dtype == np.float32 and raw.shape == (224, 224)
    np.testing.assert_array_equal(raw, panel.result.heat)


def test_comparison_grid_fills_progressively(qtbot, panel, tmp_path):
    from PySide6.QtCore import Qt

    grid = panel.grid
    panel.views.setCurrentIndex(1)
    for i in range(grid.methods_list.count()):
        item = grid.methods_list.item(i)
        wanted = item.data(Qt.ItemDataRole.UserRole) in ("gradcam", "eigencam", "saliency")
        item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
    layers = [grid.layers_list.item(i) for i in range(grid.layers_list.count())
              if grid.layers_list.item(i).checkState() == Qt.CheckState.Checked]
    assert len(layers) == 3
    layers[0].setCheckState(Qt.CheckState.Unchecked)
    partials = []
    panel.runner.partial.connect(lambda _id, cell: partials.append(cell))
    grid.fill_button.click()
    qtbot.waitUntil(lambda: grid.status.text().startswith("Done"), timeout=TIMEOUT)
    assert len(grid.filled) == 5  # 2 CAMs × 2 layers + saliency once
    assert len(partials) == 5
    assert all(0 <= cell.deletion_auc <= 1 for cell in grid.filled.values())
    captions = [caption.text() for _view, caption in grid.cells.values()]
    assert any(c.startswith("del ") and "ins" in c for c in captions)
    assert sum("most faithful" in c for c in captions) == 1
    assert "Egyptian cat" in grid.status.text() and "★" in grid.status.text()
    for view, _caption in grid.cells.values():  # the whole grid fits the view
        assert view.canvas.width() >= 96
    figure = Image.open(panel.export_figure(str(tmp_path / "grid.png")))
    assert figure.width > 1000 and "Comparison grid" in figure.text["Title"]


def test_two_classes_side_by_side(qtbot, panel):
    panel.views.setCurrentIndex(2)
    page = panel.classes
    assert page.first.index_value() == panel.result.top[0].index
    page.second.setCurrentIndex(panel.result.top[1].index)
    page.compute_button.click()
    qtbot.waitUntil(lambda: len(page.results) == 2, timeout=TIMEOUT)
    first, second = page.results
    assert first.target != second.target and not np.allclose(first.heat, second.heat)
    assert all(view.colorbar.isVisible() for view in page.views)
    assert first.label in page.views[0].title.text()


def test_a_constant_map_is_shown_with_a_warning(qtbot):
    from workbench.ui.widgets.overlay_view import OverlayView

    view = OverlayView()
    qtbot.addWidget(view)
    view.set_image(np.zeros((8, 8, 3), np.float32))
    view.set_map(np.zeros((8, 8), np.float32), units="attribution value")
    assert not view.warning.isHidden() and "constant" in view.warning.text()
    view.set_map(np.eye(8, dtype=np.float32))
    assert view.warning.isHidden() and not view.colorbar.isHidden()


def test_channel_weights_row_only_for_clip_models(qtbot, panel):
    """Grad-CAM's clip | per-time weighting means nothing for an image model: hidden."""
    form = panel.form
    assert "weighting" in form.editors
    assert not form._layout.isRowVisible(form.editors["weighting"])
    panel.window_.model_dock.load("motion_3d")
    qtbot.waitUntil(lambda: panel.state.model.name == "motion_3d", timeout=TIMEOUT)
    assert form._layout.isRowVisible(form.editors["weighting"])
