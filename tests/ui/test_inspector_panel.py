"""The Inspector tab driven as a user would: the layer table of EfficientNet-Lite0 (a row
per named module, totals, sorting, the search filter, formulas on hover), a unit's
theoretical box and effective receptive field, the activation grid and its clicks, and
the convolution calculator with its unrolled matrix."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

TIMEOUT = 60_000


@pytest.fixture(scope="module")
def loaded():
    from workbench.core.models.registry import load_model
    from workbench.io.images import load_image
    from workbench.io.samples import sample_path

    return load_model("efficientnet_lite0"), load_image(sample_path("chelsea"))


@pytest.fixture
def panel(qtbot, loaded):
    from workbench.ui.state import AppState
    from workbench.ui.tabs.inspector.panel import InspectorPanel
    from workbench.worker import Runner

    model, image = loaded
    state, runner = AppState(), Runner("inspector-test")
    widget = InspectorPanel(state, runner)
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    widget.show()
    qtbot.waitExposed(widget)
    errors = []
    state.message.connect(lambda text, error: errors.append(text) if error else None)
    state.set_image(image, "chelsea")
    state.set_model(model)

    def ready():
        assert not errors, errors
        return widget.table is not None and widget.picture is not None

    qtbot.waitUntil(ready, timeout=TIMEOUT)
    qtbot.waitUntil(runner.is_idle, timeout=TIMEOUT)
    widget.runner_ = runner
    yield widget
    assert runner.shutdown()


def shown_names(panel):
    return [panel.proxy.index(r, 0).data() for r in range(panel.proxy.rowCount())]


def test_the_table_lists_every_module_with_totals(panel, loaded):
    model = loaded[0]
    net = model.module.net
    names = [name for name, _m in net.named_modules() if name]  # the root is the totals
    assert [row.name for row in panel.rows.rows] == names
    total = sum(p.numel() for p in net.parameters())
    totals = panel.table.totals
    assert totals["params_trainable"] == total
    assert f"{total:,}".replace(",", " ") in panel.totals.text()
    assert panel.proxy.rowCount() == len(names)


def test_sorting_by_parameters_and_the_search_filter(panel):
    from workbench.ui.tabs.inspector.table_model import SORT_ROLE

    def column(index):
        return [panel.proxy.index(r, index).data(SORT_ROLE)
                for r in range(panel.proxy.rowCount())]

    panel.sort_by_parameters(descending=True)
    params = column(5)
    assert params == sorted(params, reverse=True) and params[0] > params[-1]
    assert shown_names(panel)[0] == "_blocks"  # the container holding most parameters
    panel.sort_by_parameters(descending=False)
    assert column(5) == sorted(params)
    panel.view.sortByColumn(7, Qt.SortOrder.DescendingOrder)  # MACs
    assert column(7) == sorted(column(7), reverse=True)
    panel.search.setText("depthwise")
    names = shown_names(panel)
    assert names and all("depthwise" in n for n in names)
    assert len(names) == 16  # one per block
    panel.search.setText("conv2d")  # by type
    assert panel.proxy.rowCount() > 16
    assert all("conv" in panel.proxy.index(r, 1).data().lower()
               for r in range(panel.proxy.rowCount()))
    panel.search.clear()
    assert panel.proxy.rowCount() == len(panel.rows.rows)


def test_a_tooltip_shows_the_formula_with_this_layers_values(panel):
    name = "_blocks.0._depthwise_conv"  # 3×3, stride 1, on 112×112
    index = next(i for i, row in enumerate(panel.rows.rows) if row.name == name)
    row = panel.rows.rows[index]
    tip = panel.rows.index(index, 4).data(Qt.ItemDataRole.ToolTipRole)  # output shape
    assert row.formulas.get("output") and row.formulas["output"] in tip
    assert "112 − 3" in tip and tip.endswith("= 112")
    tip = panel.rows.index(index, 5).data(Qt.ItemDataRole.ToolTipRole)  # parameters
    assert tip.startswith("Params: 3·3") and tip.endswith(f"= {row.params_trainable}")
    undefined = next(i for i, r in enumerate(panel.rows.rows) if r.rf is None)
    assert panel.rows.index(undefined, 9).data() == "not defined"
    assert "not defined" in panel.rows.index(undefined, 9).data(Qt.ItemDataRole.ToolTipRole)


def test_a_unit_draws_its_box_and_effective_field(qtbot, panel):
    panel.choose_layer("_blocks.3._project_conv")
    assert panel.layer == "_blocks.3._project_conv"
    grid = panel.grid_of(panel.layer)
    assert grid == (28, 28)
    panel.set_position((10, 12))
    qtbot.waitUntil(lambda: panel.erf is not None, timeout=TIMEOUT)
    top, left, bottom, right = panel.box
    assert 0 <= top < bottom <= 224 and 0 <= left < right <= 224  # bottom, right exclusive
    xs, ys = panel.box_item.getData()
    assert len(xs) == 5
    assert panel.erf.shape == (224, 224)
    assert panel.rf_view.colorbar.isVisible() and panel.rf_view.scale is not None
    assert "∂" in panel.rf_view.scale.units
    # the effective field lies inside the theoretical box
    heat = panel.erf
    inside = heat[top:bottom, left:right].sum()
    assert inside >= 0.99 * heat.sum()
    # a click on the picture picks the unit whose field is centred there
    panel.erf = None
    point = panel.rf_view.image_item.mapToScene(QPointF(200.0, 40.0))
    event = type("Click", (), {"scenePos": lambda self: point})()
    panel._image_clicked(event)
    row, col = panel.position()
    assert row < 14 and col > 14
    qtbot.waitUntil(lambda: panel.erf is not None, timeout=TIMEOUT)
    qtbot.waitUntil(panel.runner_.is_idle, timeout=TIMEOUT)


def test_the_activation_grid_shows_every_channel_and_clicks_open_it(qtbot, panel):
    panel.choose_layer("_blocks.3._project_conv")
    qtbot.waitUntil(lambda: panel.activations is not None
                    and panel.mosaic.layer == "_blocks.3._project_conv", timeout=TIMEOUT)
    channels = panel.channels_of("_blocks.3._project_conv")
    assert panel.activations.shape[0] == channels == 40
    assert f"{channels} channels" in panel.mosaic.view.title.text()
    count, pitch_y, pitch_x, _columns = panel.mosaic.shape
    with qtbot.waitSignal(panel.open_channel) as blocker:
        panel.mosaic.channel_clicked.emit(panel.mosaic.channel_at(pitch_x * 2 + 1, 1))
    assert blocker.args == ["_blocks.3._project_conv", 2]
    qtbot.waitUntil(panel.runner_.is_idle, timeout=TIMEOUT)


def test_the_convolution_page(panel):
    conv = panel.conv
    panel.pages.setCurrentIndex(1)
    assert "2×2" in conv.summary.text()
    assert conv.answer.matrix_shape == (4, 9)
    assert conv.matrix.shape == (4, 9)
    assert conv.answer.nonzeros == 16
    assert conv.view.image is not None and conv.view.image.shape[:2] == (4, 9)
    assert "4×9" in conv.summary.text()
    spins = conv.spins
    spins["h"].setValue(28)
    spins["w"].setValue(28)
    spins["kernel"].setValue(7)
    spins["stride"].setValue(3)
    assert "8×8" in conv.summary.text()
    assert conv.answer.nonzeros == 3136 and "3 136" in conv.summary.text()
    assert conv.matrix.shape == (64, 784) and int(np.count_nonzero(conv.matrix)) == 3136
    conv.out_row.setValue(7)
    conv.out_col.setValue(7)
    rows = conv.highlighted_rows()
    assert rows.tolist() == [63]
    spins["c"].setValue(512)
    spins["out_channels"].setValue(256)
    assert conv.matrix is None and "too large" in conv.view.title.text()


def test_a_channel_opens_in_feature_visualization(qtbot, open_window):
    win = open_window("Inspector")
    win.panel("Inspector").open_channel.emit("_blocks.3._project_conv", 7)
    featviz = win.panel("Feature visualization")
    assert win.tabs.currentWidget() is featviz
    assert featviz.current_layer() == "_blocks.3._project_conv"
    assert featviz.channel.value() == 7 and featviz.kind.currentText() == "channel"
    qtbot.waitUntil(win.is_settled, timeout=TIMEOUT)
