"""A clip model with a video input: every tab explains the clip at the video's current
position (not a still picture repeated), and says which clip it is."""

import numpy as np
import pytest

from tests.io.video_corpus import make_video

TIMEOUT = 120_000


@pytest.fixture
def win(qtbot, open_window, tmp_path):
    clip = make_video(tmp_path / "clip.mp4", frames=60, size=(160, 96))
    window = open_window("Predict")
    window.model_dock.load("r3d_18:random")
    qtbot.waitUntil(lambda: window.state.model is not None
                    and window.state.model.kind == "video", timeout=TIMEOUT)
    window.inputs.add_paths([clip], select=True)
    qtbot.waitUntil(lambda: window.state.uses_clip(), timeout=TIMEOUT)
    qtbot.waitUntil(window.is_settled, timeout=TIMEOUT)
    return window


def show(qtbot, win, title):
    win.tabs.setCurrentIndex([p.title for p in win.panels].index(title))
    qtbot.waitUntil(win.is_settled, timeout=TIMEOUT)
    return win.panel(title)


def test_the_clip_follows_the_video_position(qtbot, win):
    state = win.state
    assert state.clip.shape == (16, 96, 160, 3)  # 16 frames, every 2nd (25 → 15 fps)
    assert "0–30 (every 2)" in state.input_name()
    video = show(qtbot, win, "Video")
    video.player.seek_index(20)
    qtbot.waitUntil(lambda: "20–50" in state.input_name(), timeout=TIMEOUT)
    predict = show(qtbot, win, "Predict")
    qtbot.waitUntil(lambda: "20–50" in predict.detail.text(), timeout=TIMEOUT)
    assert predict.prediction is not None and len(predict.prediction.probs) == 400


def test_attribution_occlusion_and_adversarial_take_the_clip(qtbot, win):
    attribution = show(qtbot, win, "Attribution")
    qtbot.waitUntil(lambda: attribution.result is not None, timeout=TIMEOUT)
    result = attribution.result
    assert result.clip_heat.shape == (16, 112, 112) and result.heat.shape == (112, 112)
    np.testing.assert_array_equal(result.heat, result.clip_heat[8])  # the middle frame
    occlusion = show(qtbot, win, "Occlusion")
    qtbot.waitUntil(lambda: occlusion.masked is not None, timeout=TIMEOUT)
    assert occlusion.canvas.mask.shape == (112, 112)
    adversarial = show(qtbot, win, "Adversarial")
    adversarial.method.setCurrentIndex(adversarial.method.findData("fgsm"))
    adversarial.run_attack()
    qtbot.waitUntil(lambda: adversarial.result is not None, timeout=TIMEOUT)
    qtbot.waitUntil(win.is_settled, timeout=TIMEOUT)
    original, attacked = adversarial.result.clips
    assert original.shape == attacked.shape == (16, 112, 112, 3)
    assert np.abs(attacked - original).max() <= 8 / 255 + 1e-5
    assert adversarial.cam_views[1].heat is not None


def test_a_still_picture_on_a_clip_model_says_it_is_repeated(qtbot, win):
    win.inputs.list.setCurrentRow(0)  # chelsea, a still
    qtbot.waitUntil(lambda: not win.state.uses_clip(), timeout=TIMEOUT)
    assert "repeated over 16 frames" in win.state.input_name()
