"""Presentation mode draws everything larger by one scale — curves, scatter points,
legends, the colour bar, axis ticks — and switching back restores every size."""

import numpy as np
import pyqtgraph as pg
import pytest

from workbench.ui.theme import NORMAL_POINT_SIZE, PRESENTATION_POINT_SIZE, current_theme

SCALE = PRESENTATION_POINT_SIZE / NORMAL_POINT_SIZE


def _sizes(win, scatter, bar, legend_widget) -> dict:
    sweep = win.panel("Adversarial").sweep_plot
    legend = sweep.getPlotItem().legend
    sample, _label = legend.items[0]
    featviz = win.panel("Feature visualization")
    return {
        "curve pen": sweep.getPlotItem().listDataItems()[0].opts["pen"].widthF(),
        "symbol": sweep.getPlotItem().listDataItems()[0].opts["symbolSize"],
        "featviz curve": featviz.curve.opts["pen"].widthF(),
        "timeline cursor": win.panel("Video").timeline.cursor.pen.widthF(),
        "scatter point": scatter.groups[0].opts["size"],
        "scatter highlight": scatter.highlight.opts["size"],
        "legend font": float(legend.opts["labelTextSize"].rstrip("pt")),
        "legend swatch": sample.width(),
        "legend widget swatch": legend_widget.list.iconSize().width(),
        "colour bar": bar._bar_width(),
        "tick font": win.panel("Predict").chart.getAxis("bottom").style["tickFont"].pointSizeF(),
        "bar label font": next(i for i in win.panel("Predict").chart._items
                               if isinstance(i, pg.TextItem)).textItem.font().pointSizeF(),
    }


def test_presentation_scales_what_is_drawn_and_switching_back_restores_it(qtbot, open_window):
    from workbench.io.overlay import MIN_MAX, color_scale
    from workbench.ui.tabs.adversarial.sweep_page import SweepPage
    from workbench.ui.widgets.colorbar import ColorBar
    from workbench.ui.widgets.legend import Legend
    from workbench.ui.widgets.scatter_map import ScatterMap

    win = open_window()
    predict = win.panel("Predict")
    qtbot.waitUntil(lambda: predict.prediction is not None, timeout=60_000)
    adversarial = win.panel("Adversarial")
    sweep = type("Sweep", (), {"eps": np.linspace(0, 8 / 255, 5), "true_prob": np.ones(5),
                               "true_label": "cat", "target_prob": None,
                               "top1_prob": np.ones(5)})()
    adversarial.sweep = sweep  # curves with a legend, as after a sweep (redrawn on themes)
    SweepPage.plot(adversarial.sweeps, sweep)
    scatter = ScatterMap()
    qtbot.addWidget(scatter)
    scatter.set_points(np.random.default_rng(0).normal(size=(50, 2)), np.arange(50) % 3,
                       ["a", "b", "c"])
    scatter.show()
    bar = ColorBar()
    qtbot.addWidget(bar)
    bar.set_scale(color_scale(np.linspace(0, 1, 64).reshape(8, 8), "inferno", "value", MIN_MAX))
    legend_widget = Legend()
    qtbot.addWidget(legend_widget)
    legend_widget.set_entries([(0, "cat", "#ff0000", 3), (1, "dog", "#00ff00", 2)])
    normal = _sizes(win, scatter, bar, legend_widget)
    for _switch in range(3):
        win.presentation_action.trigger()
        assert current_theme().presentation and current_theme().scale == pytest.approx(SCALE)
        large = _sizes(win, scatter, bar, legend_widget)
        for name, size in normal.items():
            tolerance = 0.12 if name in ("colour bar", "legend widget swatch") else 0.02
            assert large[name] == pytest.approx(size * SCALE, rel=tolerance), name
        win.presentation_action.trigger()
        assert _sizes(win, scatter, bar, legend_widget) == normal
