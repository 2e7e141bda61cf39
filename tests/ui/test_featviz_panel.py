"""The Feature visualization tab: live frames, a mid-run change, pause / resume, stop."""

import numpy as np
import pytest
from PIL import Image

from workbench.io.samples import sample_path

TIMEOUT = 120_000


@pytest.fixture
def panel(open_window):
    win = open_window("Feature visualization")
    featviz = win.panel("Feature visualization")
    featviz.layer.setCurrentIndex(featviz.layer.findData("_blocks.6"))
    featviz._update_channel_range()
    featviz.channel.setValue(5)
    featviz.size_spin.setValue(96)
    featviz.window_ = win
    return featviz


def test_live_frames_mid_run_change_and_stop(qtbot, panel, tmp_path):
    frames = []
    panel.runner.partial.connect(lambda _id, snap: frames.append(snap.images.copy()))
    panel.steps.setValue(100_000)
    panel.run()
    qtbot.waitUntil(lambda: len(frames) >= 3, timeout=TIMEOUT)
    distinct = {hash(f.tobytes()) for f in frames}
    assert len(distinct) >= 3
    panel.live_form.editors["lr"].setValue(0.2)
    assert panel.config.lr == pytest.approx(0.2)
    qtbot.waitUntil(lambda: panel.session.get("optimizer") is not None and
                    panel.session["optimizer"].param_groups[0]["lr"] == pytest.approx(0.2),
                    timeout=TIMEOUT)
    panel.stop_button.click()
    qtbot.waitUntil(lambda: panel.window_.is_settled(), timeout=TIMEOUT)
    assert "stopped" in panel.status.text()
    assert len(panel.history) >= 3
    path = panel.save_image(0, str(tmp_path / "unit.png"))
    recipe = Image.open(path).text["Recipe"]
    assert "_blocks.6" in recipe and '"lr": 0.2' in recipe


def test_pause_and_resume_continue_the_same_image(qtbot, panel):
    panel.steps.setValue(40)
    panel.run()
    qtbot.waitUntil(lambda: panel.snapshot is not None and panel.snapshot.step >= 3,
                    timeout=TIMEOUT)
    panel.pause_button.click()
    qtbot.waitUntil(lambda: "paused" in panel.status.text(), timeout=TIMEOUT)
    paused_at = panel.session["step"]
    assert panel.pause_button.text() == "Resume"
    panel.pause_button.click()
    qtbot.waitUntil(lambda: "done" in panel.status.text(), timeout=TIMEOUT)
    assert panel.snapshot.step == 40 and paused_at < 40


def test_channel_mosaic_click_picks_a_channel(qtbot, panel):
    panel.show_channels()
    qtbot.waitUntil(lambda: panel.mosaic.shape is not None, timeout=TIMEOUT)
    count, pitch_y, pitch_x, columns = panel.mosaic.shape
    assert count == 80  # _blocks.6 has 80 channels
    bar = panel.mosaic.view.colorbar
    assert bar.isVisible() and "each channel normalized" in bar.scale.units
    panel.mosaic.scaling.setCurrentIndex(1)  # one scale for the layer: raw activations
    assert bar.scale.units == "activation of _blocks.6" and bar.scale.high > bar.scale.low
    index = panel.mosaic.channel_at(pitch_x * 2 + 1, pitch_y * 1 + 1)
    assert index == columns + 2
    panel._on_channel_clicked(index)
    assert panel.channel.value() == columns + 2


def test_dataset_examples_from_opened_inputs(qtbot, panel):
    panel.window_.inputs.add_paths([sample_path("coffee"), sample_path("rocket")])
    qtbot.waitUntil(lambda: panel.window_.inputs.list.count() == 3, timeout=TIMEOUT)
    panel.examples_from_inputs()
    qtbot.waitUntil(lambda: len(panel.examples) == 3, timeout=TIMEOUT)
    scores = [e.score for e in panel.examples]
    assert scores == sorted(scores, reverse=True)
    assert panel.example_views[0].image is not None
    assert np.asarray(panel.examples[0].crop).shape[2] == 3
