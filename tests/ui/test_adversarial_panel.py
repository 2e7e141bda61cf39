"""The Adversarial tab: choose an attack, run, sweep, save and re-check, train a patch."""

import numpy as np
import pytest
from PIL import Image

TIMEOUT = 120_000


@pytest.fixture
def panel(open_window):
    win = open_window("Adversarial")
    adversarial = win.panel("Adversarial")
    adversarial.window_ = win
    return adversarial


def choose(combo, data):
    combo.setCurrentIndex(combo.findData(data))


def test_attack_run_shows_all_three_and_the_explanations(qtbot, panel):
    choose(panel.method, "pgd")
    assert set(panel.form.editors) >= {"eps", "step_size", "steps", "random_start"}
    panel.form.editors["eps"].setValue(4)  # shown in grey levels: 4/255
    assert panel.form.values()["eps"] == pytest.approx(4 / 255)
    panel.form.editors["steps"].setValue(10)
    panel.run_attack()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=TIMEOUT)
    qtbot.waitUntil(panel.window_.is_settled, timeout=TIMEOUT)
    view = panel.result
    assert view.success and view.after[0].label != "Egyptian cat"
    assert view.linf <= 4 / 255 + 1e-6
    assert "L∞" in panel.noise_view.title.text()
    assert panel.cam_views[1].heat is not None and "adversarial" in panel.cam_views[1].title.text()
    assert "succeeded" in panel.verdict.text()


def test_targeted_least_likely_and_class(qtbot, panel):
    choose(panel.method, "bim")
    panel.target_mode.setCurrentText("class")
    panel.target_class.setCurrentIndex(859)  # toaster
    panel.form.editors["eps"].setValue(16)
    panel.form.editors["steps"].setValue(10)
    panel.run_attack()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=TIMEOUT)
    assert panel.result.target == 859
    qtbot.waitUntil(panel.window_.is_settled, timeout=TIMEOUT)


def test_sweep_then_click_a_point(qtbot, panel):
    choose(panel.method, "fgsm")
    panel.eps_count.setValue(4)
    panel.run_sweep()
    qtbot.waitUntil(lambda: panel.sweep is not None, timeout=TIMEOUT)
    assert len(panel.sweep.eps) == 4 and panel.sweep.true_prob[0] > panel.sweep.true_prob[-1]
    panel.show_sweep_point(1)
    assert "ε = 5.3/255" in panel.sweep_view.title.text()
    np.testing.assert_array_equal(panel.sweep_view.image, panel.sweep.images[1])


def test_save_rechecks_the_8_bit_file(qtbot, panel, tmp_path):
    choose(panel.method, "pgd")
    panel.form.editors["eps"].setValue(4)
    panel.run_attack()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=TIMEOUT)
    qtbot.waitUntil(panel.window_.is_settled, timeout=TIMEOUT)
    path = panel.save_adversarial(str(tmp_path / "adv.png"))
    qtbot.waitUntil(lambda: "Saved" in panel.save_label.text(), timeout=TIMEOUT)
    assert "survives 8 bits" in panel.save_label.text()
    assert Image.open(path).size == (224, 224)
    choose(panel.method, "deepfool")  # the smallest change: rounding undoes it
    panel.run_attack()
    qtbot.waitUntil(lambda: panel.result.method == "deepfool", timeout=TIMEOUT)
    qtbot.waitUntil(panel.window_.is_settled, timeout=TIMEOUT)
    panel.save_adversarial(str(tmp_path / "deepfool.png"))
    qtbot.waitUntil(lambda: "deepfool.png" in panel.save_label.text(), timeout=TIMEOUT)
    if not panel.result.quantized_fools:
        assert "undid the attack" in panel.save_label.text()


def test_patch_trains_and_pastes(qtbot, panel, tmp_path):
    panel.modes.setCurrentIndex(2)
    panel.patch_form.editors["steps"].setValue(4)
    panel.patch_form.editors["preview_every"].setValue(2)
    panel.patch_form.editors["size"].setValue(40)
    panel.train_patch()
    qtbot.waitUntil(lambda: panel.patched is not None, timeout=TIMEOUT)
    qtbot.waitUntil(panel.window_.is_settled, timeout=TIMEOUT)
    patch, mask, history = panel.patch
    assert patch.shape == (40, 40, 3) and mask.shape == (40, 40) and len(history) == 4
    before = panel.patched[0].copy()
    panel.paste_at((30, 30))
    qtbot.waitUntil(lambda: not np.array_equal(panel.patched[0], before), timeout=TIMEOUT)
    saved = Image.open(panel.save_patch(str(tmp_path / "patch.png")))
    assert saved.mode == "RGBA" and saved.text["Target"] == "859"


def test_targeted_attack_reports_its_target_and_old_messages_go(qtbot, panel, tmp_path):
    choose(panel.method, "fgsm")
    panel.run_attack()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=TIMEOUT)
    qtbot.waitUntil(panel.window_.is_settled, timeout=TIMEOUT)
    panel.save_adversarial(str(tmp_path / "first.png"))
    qtbot.waitUntil(lambda: "Saved" in panel.save_label.text(), timeout=TIMEOUT)
    assert "as stored" in panel.save_label.text()
    choose(panel.method, "bim")
    panel.target_mode.setCurrentText("class")
    panel.target_class.setCurrentIndex(859)  # toaster
    panel.form.editors["steps"].setValue(1)
    panel.run_attack()
    assert panel.save_label.text() == ""  # the first file's verdict is not this attack's
    qtbot.waitUntil(lambda: panel.result is not None and panel.result.method == "bim",
                    timeout=TIMEOUT)
    qtbot.waitUntil(panel.window_.is_settled, timeout=TIMEOUT)
    assert "target toaster" in panel.verdict.text() and "in 1 step " in panel.verdict.text()
    assert "target toaster" in panel.captions[2].text()
    assert panel.noise_view.colorbar.isVisible()
    assert panel.noise_view.colorbar.scale.units == "change per channel (/255)"


def test_sweep_plots_true_target_and_top1(qtbot, panel):
    choose(panel.method, "fgsm")
    panel.target_mode.setCurrentText("least-likely")
    panel.eps_count.setValue(3)
    panel.run_sweep()
    qtbot.waitUntil(lambda: panel.sweep is not None, timeout=TIMEOUT)
    names = [item.name() for item in panel.sweep_plot.getPlotItem().listDataItems()]
    assert len(names) == 3 and "the target" in names[1] and "top-1" in names[2]
    qtbot.waitUntil(panel.window_.is_settled, timeout=TIMEOUT)
