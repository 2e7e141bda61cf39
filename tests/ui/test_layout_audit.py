"""The layout audit: it finds cut text, unreachable controls and low contrast (shown on
purpose-built defects), and the real window passes it in every theme at both sizes, with
themes toggled any number of times."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.io.colormaps import contrast_ratio
from workbench.ui.audit import audit_plots, audit_widgets, audit_window, ink_contrast

TIMEOUT = 120_000
SIZES = ((1400, 860), (1280, 720))
MODES = ("light", "dark", "presentation")


def kinds(findings):
    return sorted({f.kind for f in findings})


def test_contrast_is_measured_on_pixels():
    pixels = np.full((20, 60, 3), 255, np.uint8)
    pixels[5:15, 10:50] = (119, 119, 119)  # #777 on white: 4.48 : 1
    assert ink_contrast(pixels) == pytest.approx(4.48, abs=0.02)
    assert contrast_ratio(np.array([0, 0, 0]), np.array([255, 255, 255])) == pytest.approx(21)
    assert ink_contrast(np.full((10, 10, 3), 40, np.uint8)) is None  # nothing drawn


def test_the_audit_finds_each_kind_of_defect(qtbot):
    window = QWidget()
    qtbot.addWidget(window)
    row = QHBoxLayout(window)
    cut = QPushButton("Stop the running job")
    cut.setFixedWidth(40)  # narrower than its text
    faint = QLabel("nearly invisible")
    faint.setStyleSheet("color: #dddddd; background: #ffffff")
    scroll = QScrollArea()  # a column wider than its area, without a scroll bar to reach it
    scroll.setHorizontalScrollBarPolicy(pg.QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    inner = QWidget()
    inner.setFixedWidth(600)
    QVBoxLayout(inner).addWidget(QPushButton("Neighbours of the current image"))
    scroll.setWidget(inner)
    scroll.setFixedWidth(150)
    plot = pg.PlotWidget(background="#1e1f22")
    text = pg.TextItem("legend", color="#2a2a2a")
    plot.addItem(text)
    for widget in (cut, faint, scroll, plot):
        row.addWidget(widget)
    window.resize(1000, 300)
    window.show()
    qtbot.waitExposed(window)
    found = audit_widgets(window, "test") + audit_plots(window, "test")
    described = [str(f) for f in found]
    assert any("cut" in d and "Stop the running job" in d for d in described)
    assert any("contrast" in d and "nearly invisible" in d for d in described)
    assert any("unreachable" in d and "Neighbours" in d for d in described)
    assert any("plot text 'legend'" in d for d in described)


def test_visiting_reaches_every_nested_page(qtbot):
    from workbench.ui.audit import visit_all

    outer = QTabWidget()
    inner = QTabWidget()
    inner.addTab(QLabel("a"), "A")
    inner.addTab(QLabel("b"), "B")
    outer.addTab(inner, "Inner")
    outer.addTab(QLabel("c"), "C")
    qtbot.addWidget(outer)
    outer.show()
    assert list(visit_all(outer)) == ["Inner › A", "Inner › B", "C"]


@pytest.fixture(scope="module")
def audited(qapp):
    """One real window, its jobs run, audited in every theme at both sizes; returns the
    findings per (size, mode) and the window's sizes after each theme switch."""
    from workbench.io.samples import sample_path
    from workbench.ui.main_window import MainWindow
    from workbench.ui.screenshot import wait_until_settled

    window = MainWindow(files=[str(sample_path("chelsea"))], restore=False)
    window.resize(*SIZES[0])
    window.show()
    wait_until_settled(qapp, window)
    occlusion = window.panel("Occlusion")
    occlusion.sweep_form.editors["window"].setValue(56)
    occlusion.sweep_form.editors["stride"].setValue(56)
    occlusion.run_sweep()
    wait_until_settled(qapp, window)

    def settle():
        for _ in range(3):
            qapp.processEvents()
        wait_until_settled(qapp, window)

    results, sizes = {}, []
    for size in SIZES:
        for mode in MODES:
            window.dark_action.setChecked(mode == "dark")
            window.presentation_action.setChecked(mode == "presentation")
            window._apply_theme()
            window.resize(*size)
            settle()
            results[(size, mode)] = audit_window(window, settle, size)
    for mode in (*MODES, *MODES, "light"):  # toggled back and forth: nothing grows
        window.dark_action.setChecked(mode == "dark")
        window.presentation_action.setChecked(mode == "presentation")
        window._apply_theme()
        settle()
        sizes.append((window.width(), window.height()))
    headline = window.panels[0].headline
    yield results, sizes, headline, window
    window.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("mode", MODES)
def test_every_tab_passes_the_audit(audited, size, mode):
    results = audited[0]
    findings = results[(size, mode)]
    assert not findings, "\n".join(map(str, findings))


def test_theme_switches_never_grow_the_window(audited):
    _results, sizes, _headline, _window = audited
    assert set(sizes) == {SIZES[-1]}, sizes


def test_the_predict_headline_follows_every_switch(audited, qtbot):
    from workbench.ui.audit import image_pixels

    _results, _sizes, headline, window = audited
    window.tabs.setCurrentIndex(0)
    for dark in (True, False, True, False):
        window.dark_action.setChecked(dark)
        window._apply_theme()
        qtbot.wait(20)
        assert ink_contrast(image_pixels(headline.grab().toImage())) >= 4.5
