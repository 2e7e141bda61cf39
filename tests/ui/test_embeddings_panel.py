"""The Embeddings tab: build a map, click a point, see its neighbours, colour, lasso, export,
and place an adversarial pair."""

import numpy as np
import pytest
from PIL import Image

TIMEOUT = 180_000


@pytest.fixture
def panel(qtbot, open_window, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    win = open_window("Embeddings")
    win.model_dock.load("digits_lenet")
    qtbot.waitUntil(lambda: win.state.model.name == "digits_lenet", timeout=TIMEOUT)
    embeddings = win.panel("Embeddings")
    embeddings.window_ = win
    return embeddings


def build(qtbot, panel, method="pca"):
    panel.method.setCurrentIndex(panel.method.findData(method))
    panel.build()
    qtbot.waitUntil(lambda: panel.map_data is not None, timeout=TIMEOUT)
    qtbot.waitUntil(panel.window_.is_settled, timeout=TIMEOUT)


def test_build_click_and_neighbours(qtbot, panel):
    assert panel.source.currentData() == "digits" and panel.layer.currentData() == "relu4"
    build(qtbot, panel)
    data = panel.map_data
    assert data.coords.shape == (1797, 2) and len(panel.map.groups) == 10
    x, y = data.coords[42]
    assert panel.map.nearest(float(x), float(y)) == 42
    panel.map.point_clicked.emit(42)
    qtbot.waitUntil(lambda: panel.neighbours is not None, timeout=TIMEOUT)
    _, indices, distances = panel.neighbours
    assert indices[0] == 42 and distances[0] == pytest.approx(0.0, abs=1e-5)
    assert len(indices) == panel.k.value()
    labels = data.labels[indices]
    assert (labels == data.labels[42]).mean() >= 0.8  # neighbours share the digit
    assert panel.gallery.count() == panel.k.value()
    qtbot.waitUntil(panel.window_.is_settled, timeout=TIMEOUT)


def test_colouring_lasso_and_exports(qtbot, panel, tmp_path):
    build(qtbot, panel)
    panel.colour_by.setCurrentText("predicted class")
    qtbot.waitUntil(lambda: panel.predictions is not None, timeout=TIMEOUT)
    qtbot.waitUntil(panel.window_.is_settled, timeout=TIMEOUT)
    top, probs = panel.predictions
    assert (top == panel.map_data.labels).mean() > 0.97
    panel.colour_by.setCurrentText("probability of a class")
    assert len(panel.map.groups) >= 2
    coords = panel.map_data.coords
    centre = coords[panel.map_data.labels == 0].mean(axis=0)
    square = np.array([centre + d for d in ((-1, -1), (1, -1), (1, 1), (-1, 1))]) * 1.0
    panel._on_lasso(panel.map.inside(square))
    assert len(panel.selection) > 0
    paths = (tmp_path / "sel.txt")
    panel.export_selection(str(paths))
    assert len(paths.read_text().splitlines()) == len(panel.selection)
    csv = (tmp_path / "map.csv")
    panel.export_csv(str(csv))
    lines = csv.read_text().splitlines()
    assert lines[0] == "x,y,label,label_name,path" and len(lines) == 1798
    assert panel.colorbar.isVisible() and not panel.legend.isVisible()  # p(class): a bar
    assert panel.status.text().endswith("coloured by p(0)")
    panel.colour_by.setCurrentText("label")
    assert panel.status.text().endswith("coloured by label")  # never a stale colouring
    assert [name for _i, name, _c, _n in panel.legend.entries] == [str(d) for d in range(10)]
    figure = Image.open(panel.export_figure(str(tmp_path / "map.png")))
    assert "PCA" in figure.text["Title"] and "digits_lenet" in figure.text["Caption"]
    aspect = panel.map.view_aspect()
    assert figure.height / figure.width < max(1.4, aspect * 1.6)  # the map's aspect, titled
    svg = panel.export_figure(str(tmp_path / "map.svg"))
    assert "<svg" in (tmp_path / "map.svg").read_text() and svg


def test_many_classes_get_distinct_colours_and_a_note(qtbot, panel):
    coords = np.random.default_rng(0).normal(size=(240, 2))
    entries = panel.map.set_points(coords, np.arange(240) % 24, [f"class {i}" for i in range(24)])
    colours = [colour for _i, _name, colour, _n in entries]
    assert len(set(colours)) == 24
    panel.legend.set_entries(entries)
    assert panel.legend.list.count() == 24 and not panel.legend.note.isVisible()
    panel.legend.set_entries([(i, f"c{i}", "#000000", 1) for i in range(40)])
    assert "hard to tell apart" in panel.legend.note.text()


@pytest.mark.parametrize("method", ["pca", "umap"])
def test_adversarial_pair_joins_the_map(qtbot, panel, method):
    build(qtbot, panel, method)
    if method == "umap":  # numba runs in the helper process, never on the window's lock
        from workbench.core.embedding.umap_reducer import HelperMap

        assert isinstance(panel.map_data.projection.state[1], HelperMap)
    adversarial = panel.window_.panel("Adversarial")
    panel.window_.open_digit_samples()
    qtbot.waitUntil(lambda: panel.window_.inputs.list.count() == 11, timeout=TIMEOUT)
    qtbot.waitUntil(panel.window_.is_settled, timeout=TIMEOUT)
    adversarial.method.setCurrentIndex(adversarial.method.findData("pgd"))
    adversarial.form.editors["eps"].setValue(64)
    adversarial.run_attack()
    qtbot.waitUntil(lambda: adversarial.result is not None, timeout=TIMEOUT)
    qtbot.waitUntil(panel.window_.is_settled, timeout=TIMEOUT)
    adversarial.show_in_embedding()
    qtbot.waitUntil(lambda: len(panel.map.arrows) == 2, timeout=TIMEOUT)
    assert "adversarial" in panel.status.text()
