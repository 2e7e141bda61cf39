"""The Predict tab for dense models: boxes drawn exactly on the model's boxes, a click picks
the target the Attribution tab then explains, the threshold and class filter, the
segmentation legend and region clicks, a drawn region; a classifier keeps the old page."""

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QDialog, QTabWidget

from tests.core.tasks.toys import BOXES, toy_detector, toy_segmenter
from workbench.core.tasks.targets import NOTHING, DetectionTarget, RegionTarget

TIMEOUT = 30_000


def scene_picture() -> np.ndarray:
    """64×96 (twice the toys' 32×48 input): a bright disc channel in box 0, a square
    channel in box 1 and a faint ring channel in box 2 (it scores below 0.5)."""
    image = np.zeros((64, 96, 3), np.float32)
    image[8:32, 8:40, 0] = 0.9
    image[16:56, 48:88, 1] = 0.6
    image[20:56, 52:88, 2] = 0.2
    return image


@pytest.fixture
def tabs(qtbot):
    """Predict and Attribution tabs on one state and runner, shown at 1300×800."""
    from workbench.ui.state import AppState
    from workbench.ui.tabs.attribution.panel import AttributionPanel
    from workbench.ui.tabs.predict.panel import PredictPanel
    from workbench.worker import Runner

    state, runner = AppState(), Runner("dense-predict-test")
    widget = QTabWidget()
    predict, attribution = PredictPanel(state, runner), AttributionPanel(state, runner)
    widget.addTab(predict, "Predict")
    widget.addTab(attribution, "Attribution")
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    widget.show()
    qtbot.waitExposed(widget)
    errors = []
    state.message.connect(lambda text, error: errors.append(text) if error else None)
    widget.state, widget.runner, widget.errors = state, runner, errors
    widget.predict, widget.attribution = predict, attribution
    yield widget
    assert runner.shutdown()


def load(qtbot, tabs, model, image=None):
    state = tabs.state
    state.set_image(scene_picture() if image is None else image, "scene")
    state.set_model(model)
    qtbot.waitUntil(lambda: state.target is not None, timeout=TIMEOUT)
    qtbot.waitUntil(tabs.runner.is_idle, timeout=TIMEOUT)
    assert not tabs.errors, tabs.errors
    return tabs.predict.dense


def click(page, x, y):
    """A left click at model-input pixel (x, y) of the page's view."""
    viewport = page.view.canvas.viewport()
    point = page.overlay.view_to_widget(x, y)
    for kind, buttons in ((QEvent.Type.MouseButtonPress, Qt.MouseButton.LeftButton),
                          (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton)):
        event = QMouseEvent(kind, QPointF(point), QPointF(viewport.mapToGlobal(point)),
                            Qt.MouseButton.LeftButton, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(viewport, event)


def test_boxes_sit_exactly_on_the_model_boxes(qtbot, tabs):
    page = load(qtbot, tabs, toy_detector())
    assert tabs.predict.pages.currentWidget() is page
    shown = page.shown()
    assert list(shown.labels) == [0, 1]  # the faint ring scores below 0.5
    np.testing.assert_array_equal(page.overlay.box_rects(), shown.boxes)
    np.testing.assert_array_equal(shown.boxes, BOXES[:2].numpy())
    assert (page.view.image_item.width(), page.view.image_item.height()) == (48, 32)
    np.testing.assert_allclose(shown.original_boxes(), shown.boxes * 2)  # squash: ×2 each way
    table = page.boxes.table
    assert table.rowCount() == 2
    assert table.item(1, 0).text() == "square"
    assert table.item(1, 2).text() == "48, 16, 88, 56"
    assert [label.toPlainText() for label in page.overlay.labels][0].startswith("disc · 0.9")


def test_clicking_a_box_makes_it_the_target_of_the_attribution_tab(qtbot, tabs, monkeypatch):
    from workbench.ui.tabs.attribution import panel as attribution_module

    page = load(qtbot, tabs, toy_detector())
    state = tabs.state
    assert state.target == DetectionTarget(tuple(BOXES[0].tolist()), 0) and \
        state.target_is_default
    click(page, 30, 20)  # inside box 1 (square) only
    assert state.target == DetectionTarget(tuple(BOXES[1].tolist()), 1)
    assert not state.target_is_default and page.overlay.picked == 1
    assert page.boxes.table.selectedItems()[0].row() == 1
    seen = []
    real = attribution_module.map_job

    def spy(model, *args, **kwargs):
        seen.append((model, args[3]))
        return real(model, *args, **kwargs)

    monkeypatch.setattr(attribution_module, "map_job", spy)
    tabs.setCurrentIndex(1)
    attribution = tabs.attribution
    qtbot.waitUntil(lambda: attribution.result is not None, timeout=TIMEOUT)
    qtbot.waitUntil(tabs.runner.is_idle, timeout=TIMEOUT)
    model, target = seen[-1]
    assert model is state.job_model() and model.labels[-1] == NOTHING
    assert model.extras["target"].startswith("square at (24, 8)") and target == 1
    assert attribution.result.label == "square" and attribution.result.heat.shape == (32, 48)
    assert attribution.targets.labels == ["disc", "square", "ring", NOTHING]
    from workbench.ui.widgets.target_line import TargetLine

    (target_line,) = attribution.findChildren(TargetLine)
    assert target_line.text().startswith("Target: square · 0.")  # its score, then its box
    assert "at (48, 16)–(88, 56)" in target_line.text()  # in the original picture's pixels
    assert "click a box in Predict" in target_line.text()


def test_threshold_and_class_filter_change_what_is_shown(qtbot, tabs):
    page = load(qtbot, tabs, toy_detector())
    page.boxes.set_threshold(0.3)
    assert len(page.overlay.items) == 3 and page.boxes.table.rowCount() == 3
    page.boxes.slider.setValue(90)
    assert page.boxes.threshold() == pytest.approx(0.9)
    assert [d.text.split(" · ")[0] for d in page.overlay.items] == ["disc"]
    page.boxes.set_threshold(0.3)
    page.boxes.choose_class(2)
    assert [d.text.split(" · ")[0] for d in page.overlay.items] == ["ring"]
    assert page.boxes.table.rowCount() == 1 and "2 below" in page.boxes.count.text()
    assert tabs.state.target.label == 2  # the default follows what is shown


def test_segmentation_legend_shares_and_region_clicks(qtbot, tabs, monkeypatch):
    page = load(qtbot, tabs, toy_segmenter())
    seg = page.segmentation
    shares = seg.shares()
    legend = page.regions.legend
    assert [e[1] for e in legend.entries] == list(shares)  # the present classes only
    assert sum(shares.values()) == pytest.approx(1.0)
    assert set(shares) <= {"disc", "square", "ring"}
    target = tabs.state.target
    assert isinstance(target, RegionTarget) and target.label == seg.label_names.index(
        next(iter(shares)))  # the largest class (the toys have no background)
    y, x = 5, 40
    click(page, x + 0.5, y + 0.5)
    label = int(seg.class_map[y, x])
    assert tabs.state.target.label == label
    np.testing.assert_array_equal(tabs.state.target.mask, seg.class_map == label)
    assert tabs.state.job_model().labels == ["disc", "square", "ring"]
    assert tabs.state.target_text() == f"{seg.label_names[label]} over its predicted region"

    painted = np.zeros((32, 48), bool)
    painted[4:12, 6:20] = True

    def paint(dialog):
        dialog.canvas.set_mask(painted)
        return QDialog.DialogCode.Accepted

    from workbench.ui.tabs.predict.region_dialog import RegionDialog

    monkeypatch.setattr(RegionDialog, "exec", paint)
    page.draw_region()
    assert tabs.state.target.label == label
    np.testing.assert_array_equal(tabs.state.target.mask, painted)
    assert "a region of 112 pixels" in tabs.state.target_text()


def test_a_new_picture_clears_the_target_and_a_classifier_gets_the_old_page(qtbot, tabs):
    from workbench.core.models.registry import load_model

    page = load(qtbot, tabs, toy_detector())
    click(page, 30, 20)
    tabs.state.set_image(scene_picture()[:, ::-1].copy(), "mirrored")
    assert tabs.state.target is None or tabs.state.target_is_default
    qtbot.waitUntil(lambda: tabs.state.target is not None, timeout=TIMEOUT)
    qtbot.waitUntil(tabs.runner.is_idle, timeout=TIMEOUT)
    predict = tabs.predict
    tabs.state.set_model(load_model("digits_lenet"))
    qtbot.waitUntil(lambda: predict.prediction is not None, timeout=TIMEOUT)
    assert predict.pages.currentWidget() is predict.classic
    assert tabs.state.target is None and tabs.state.job_model() is tabs.state.model
    assert tabs.state.target_text() == ""


@pytest.mark.parametrize("make", [toy_detector, toy_segmenter], ids=["detector", "segmenter"])
def test_the_dense_page_passes_the_layout_audit(qtbot, tabs, make):
    from workbench.ui.audit import audit_plots, audit_widgets

    load(qtbot, tabs, make())
    for size in ((1400, 860), (1280, 720)):
        tabs.resize(*size)
        qtbot.wait(50)
        found = audit_widgets(tabs.predict, "Predict") + audit_plots(tabs.predict, "Predict")
        assert not found, "\n".join(map(str, found))
