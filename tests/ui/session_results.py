"""What the sessions test computes on every tab of a digits_lenet window, and the checks
that the inner pages (methods × layers grid, two classes, two images, epsilon sweep,
patch, dataset examples) came back as they were (used by ``test_sessions.py``)."""

from __future__ import annotations

import os

import numpy as np
import pytest

TIMEOUT = 120_000


def show_tab(qtbot, win, title):
    win.tabs.setCurrentWidget(win.panel(title))
    qtbot.waitUntil(win.is_settled, timeout=TIMEOUT)
    return win.panel(title)


def compute_results(qtbot, win):
    """An attribution map for class 5 with its methods × layers grid and two classes side
    by side, a painted mask and a sweep, an FGSM attack with an epsilon sweep and a trained
    patch, dataset examples of a channel, and a PCA map of the digits."""
    att = show_tab(qtbot, win, "Attribution")
    qtbot.waitUntil(lambda: att.result is not None, timeout=TIMEOUT)
    att.display.opacity.setValue(0.8)
    att.targets.choose(5)
    qtbot.waitUntil(lambda: att.result.target == 5 and win.is_settled(), timeout=TIMEOUT)
    att.grid.fill()
    att.classes.first.setCurrentIndex(3)
    att.classes.second.setCurrentIndex(8)
    att.classes.compute()
    att.views.setCurrentWidget(att.images)  # lists the Inputs dock's images as image B
    att.images.compute()
    qtbot.waitUntil(lambda: att.grid.status.text().startswith("Done") and
                    len(att.classes.results) == len(att.images.results) == 2
                    and win.is_settled(), timeout=TIMEOUT)
    att.views.setCurrentIndex(0)
    occ = show_tab(qtbot, win, "Occlusion")
    qtbot.waitUntil(lambda: occ.base is not None, timeout=TIMEOUT)
    mask = np.zeros_like(occ.canvas.mask)
    mask[4:12, 6:20] = True
    occ.canvas.set_mask(mask)
    occ.fill.mode.setCurrentText("black")
    occ.sweep_form.editors["window"].setValue(8)
    occ.sweep_form.editors["stride"].setValue(4)
    occ.modes.setCurrentIndex(1)
    occ.run_sweep()
    qtbot.waitUntil(lambda: occ.sweep is not None and win.is_settled(), timeout=TIMEOUT)
    adv = show_tab(qtbot, win, "Adversarial")
    adv.method.setCurrentIndex(adv.method.findData("fgsm"))
    adv.form.editors["eps"].setValue(12)
    adv.run_attack()
    qtbot.waitUntil(lambda: adv.result is not None and adv.cam_views[1].heat is not None
                    and win.is_settled(), timeout=TIMEOUT)
    adv.eps_count.setValue(4)
    adv.run_sweep()
    for name, value in (("size", 8), ("steps", 12), ("batch_size", 2), ("preview_every", 4)):
        adv.patch_form.editors[name].setValue(value)
    adv.train_patch()
    qtbot.waitUntil(lambda: adv.sweep is not None and adv.patched is not None
                    and win.is_settled(), timeout=TIMEOUT)
    fv = show_tab(qtbot, win, "Feature visualization")
    fv.examples_from_inputs()
    qtbot.waitUntil(lambda: bool(fv.examples) and win.is_settled(), timeout=TIMEOUT)
    emb = show_tab(qtbot, win, "Embeddings")
    emb.build()
    qtbot.waitUntil(lambda: emb.map_data is not None and win.is_settled(), timeout=TIMEOUT)
    win.tabs.setCurrentWidget(att)
    return att, occ, adv, emb, fv


def check_inner_pages(again, att, adv, fv) -> None:
    """The restored window ``again`` shows the results of ``att``, ``adv`` and ``fv``."""
    att2, adv2 = again.panel("Attribution"), again.panel("Adversarial")
    assert set(att2.grid.filled) == set(att.grid.filled) and att2.grid.shape == att.grid.shape
    for key, cell in att.grid.filled.items():
        np.testing.assert_array_equal(att2.grid.filled[key].heat, cell.heat)
        assert att2.grid.filled[key].deletion_auc == cell.deletion_auc
        assert att2.grid.cells[key][0].heat is not None
    assert att2.grid.best_cell() == att.grid.best_cell()
    assert att2.grid.status.text() == att.grid.status.text()
    assert [r.target for r in att2.classes.results] == [3, 8]
    for got, want in zip(att2.classes.results, att.classes.results, strict=True):
        np.testing.assert_array_equal(got.heat, want.heat)
    assert [v.title.text() for v in att2.classes.views] == \
        [v.title.text() for v in att.classes.views]
    assert all(v.heat is not None for v in att2.classes.views)
    np.testing.assert_array_equal(att2.images.results[1].heat, att.images.results[1].heat)
    assert att2.images.other.currentText() == "chelsea.png"
    assert att2.images.views[1].title.text() == att.images.views[1].title.text()
    np.testing.assert_array_equal(adv2.sweep.eps, adv.sweep.eps)
    np.testing.assert_array_equal(adv2.sweep.images, adv.sweep.images)
    assert adv2.sweep.top1 == adv.sweep.top1 and adv2.sweep.true_label == adv.sweep.true_label
    assert len(adv2.sweep_plot.getPlotItem().listDataItems()) == \
        len(adv.sweep_plot.getPlotItem().listDataItems()) >= 2
    assert adv2.sweep_view.title.text() == adv.sweep_view.title.text()
    np.testing.assert_array_equal(adv2.patch[0], adv.patch[0])
    np.testing.assert_array_equal(adv2.patch[1], adv.patch[1])
    assert list(adv2.patch[2]) == pytest.approx(list(adv.patch[2]))
    assert adv2.patch_view.image is not None and adv2.patched_view.image is not None
    assert adv2.patched_caption.text() == adv.patched_caption.text()
    assert adv2.patch_form.values()["size"] == 8
    fv2 = again.panel("Feature visualization")
    assert len(fv2.examples) == len(fv.examples)
    np.testing.assert_array_equal(fv2.examples[0].crop, fv.examples[0].crop)
    assert fv2.example_views[0].title.text() == fv.example_views[0].title.text()
    assert fv2.examples_status.text() == fv.examples_status.text()
    assert fv2.view_tabs.currentIndex() == fv.view_tabs.currentIndex() == 2


def pages_screenshots(qtbot, win, screenshot) -> None:
    """The restored inner pages: two classes, the grid, the sweep and the patch."""
    if not os.environ.get("WORKBENCH_SHOTS"):
        return
    att, adv = win.panel("Attribution"), win.panel("Adversarial")
    for page, name in ((att.classes, "two-classes"), (att.grid, "grid")):
        show_tab(qtbot, win, "Attribution").views.setCurrentWidget(page)
        screenshot(win, f"restored-attribution-{name}.png")
    att.views.setCurrentIndex(0)
    for index, name in ((1, "sweep"), (2, "patch")):
        show_tab(qtbot, win, "Adversarial").modes.setCurrentIndex(index)
        screenshot(win, f"restored-adversarial-{name}.png")
    adv.modes.setCurrentIndex(0)
    win.tabs.setCurrentWidget(att)
