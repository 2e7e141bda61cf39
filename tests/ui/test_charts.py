"""The probability charts: labels fit, ticks never run together, no change reads as no
change, and a theme switch redraws them in the theme's colours and font."""

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from workbench.ui.theme import apply_theme, current_theme
from workbench.ui.widgets.charts import DeltaChart, TopKChart

ROWS = [{"label": "Egyptian cat", "prob": 0.442, "base": 0.321, "delta": 0.121},
        {"label": "tiger cat", "prob": 0.2, "base": 0.2, "delta": -0.00001},
        {"label": "tabby", "prob": 0.05, "base": 0.2, "delta": -0.15}]


@pytest.fixture
def chart(qtbot):
    widget = DeltaChart()
    qtbot.addWidget(widget)
    widget.resize(320, 300)
    widget.show()
    qtbot.waitExposed(widget)
    widget.show_rows(ROWS)
    yield widget
    apply_theme(QApplication.instance(), False, False)


def texts(chart):
    return [item for item in chart._items if hasattr(item, "textItem")]


def test_no_change_is_neutral_and_changes_are_signed(chart):
    labels = {item.textItem.toPlainText().strip(): item for item in texts(chart)}
    assert "20.0% (±0.0%)" in labels and "44.2% (+12.1%)" in labels
    colors = current_theme().colors
    assert labels["20.0% (±0.0%)"].color == QColor(colors["foreground"])
    assert labels["5.0% (-15.0%)"].color == QColor(colors["loss"])


def test_every_label_fits_and_ticks_keep_apart(chart):
    view = chart.getViewBox()
    right = view.mapViewToScene(view.viewRect().topRight()).x()
    for item in texts(chart):
        assert item.sceneBoundingRect().right() <= right + 1
    ticks = chart.getAxis("bottom")._tickLevels[0]
    positions = [view.mapViewToScene(QPointF(v, 0)).x() for v, _ in ticks]
    gaps = [b - a for a, b in zip(positions, positions[1:], strict=False)]
    width = chart.fontMetrics().horizontalAdvance("100")
    assert all(gap >= 2 * width for gap in gaps), (ticks, gaps)


def test_a_theme_switch_redraws_in_its_font(chart, qapp):
    before = texts(chart)[0].textItem.font().pointSizeF()
    apply_theme(qapp, True, True)
    after = texts(chart)[0]
    assert after.textItem.font().pointSizeF() > before
    assert after.color == QColor(current_theme().colors["gain"])


def test_topk_writes_inside_the_bar_in_a_readable_colour(qtbot):
    from workbench.core.predict import ClassScore

    chart = TopKChart()
    qtbot.addWidget(chart)
    chart.resize(300, 200)
    chart.show_scores([ClassScore(0, "espresso", 0.95), ClassScore(1, "cup", 0.03)])
    inside = texts(chart)[0]
    assert inside.color == QColor("#111111")  # dark text on the orange bar: 6 : 1
