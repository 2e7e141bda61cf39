"""The Video tab driven as a user would: open a video in the Inputs dock, play, step,
scrub, run the per-frame predictions, change the aggregation, click the timeline to
seek, compute maps, send a frame to the Inputs, export and read the video back."""

import av
import numpy as np
import pytest

from tests.io.video_corpus import index_of, make_video

TIMEOUT = 120_000


@pytest.fixture
def panel(qtbot, open_window, tmp_path):
    clip = make_video(tmp_path / "clip.mp4", frames=40, size=(160, 96))
    win = open_window("Video")
    win.inputs.add_paths([clip], select=True)
    video = win.panel("Video")
    qtbot.waitUntil(lambda: video.info is not None and video.player.frame is not None,
                    timeout=TIMEOUT)
    video.window_, video.clip = win, clip
    return video


def settle(qtbot, panel):
    qtbot.waitUntil(panel.window_.is_settled, timeout=TIMEOUT)


def test_open_step_scrub_and_play(qtbot, panel):
    win, player = panel.window_, panel.player
    assert "40 frames" in panel.about.text() and "▶" in win.inputs.list.item(1).text()
    assert win.state.image is not None and win.state.image_name.endswith("frame 0")
    assert index_of(player.frame) == 0
    player.step(1)
    qtbot.waitUntil(lambda: player.index == 1, timeout=TIMEOUT)
    assert index_of(player.frame) == 1 and "frame 1 / 39" in player.position.text()
    player.slider.setValue(27)  # scrub
    qtbot.waitUntil(lambda: player.index == 27, timeout=TIMEOUT)
    assert index_of(player.frame) == 27
    assert player.model_view.image.shape == (224, 224, 3)
    player.seek_index(0)
    qtbot.waitUntil(lambda: player.index == 0, timeout=TIMEOUT)
    player.toggle()
    assert player.is_playing() and player.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: not player.is_playing(), timeout=TIMEOUT)  # to the end (1.6 s)
    assert player.index == 39 and index_of(player.frame) == 39
    settle(qtbot, panel)


def test_predictions_timeline_aggregation_and_seek(qtbot, panel):
    panel.every.setValue(5)
    panel.run_button.click()
    qtbot.waitUntil(lambda: panel.status.text().startswith("done"), timeout=TIMEOUT)
    result = panel.predictions
    assert result.indices.tolist() == list(range(0, 40, 5)) and result.done == 8
    assert len(panel.timeline.curves) == 5 and len(panel.legend.entries) == 5
    assert panel.formula.text().startswith("p(") and "/ 8 =" in panel.formula.text()
    mean_top = panel.video_top.text()
    panel.aggregation.setCurrentIndex(panel.aggregation.findData("vote"))
    assert panel.video_top.text() != mean_top and "majority vote" in panel.video_top.text()
    np.testing.assert_allclose(panel.video_probs.sum(), 1.0)
    panel.extra_class.setCurrentIndex(859)  # toaster: not among the video's top classes
    panel.add_class()
    assert len(panel.timeline.curves) == 6 and panel.legend.entries[-1][1] == "toaster"
    panel.timeline.seek.emit(1.2)  # a click on the timeline at 1.2 s
    qtbot.waitUntil(lambda: panel.player.index == 30, timeout=TIMEOUT)
    assert abs(panel.timeline.cursor.value() - 1.2) < 0.05
    assert "Frame 30" in panel.now.text() and "smoothed" in panel.now.text()
    settle(qtbot, panel)


def test_maps_play_with_the_video_and_exports(qtbot, panel, tmp_path):
    panel.every.setValue(10)
    panel.run_button.click()
    qtbot.waitUntil(lambda: panel.status.text().startswith("done"), timeout=TIMEOUT)
    panel.maps_button.click()
    qtbot.waitUntil(lambda: panel.maps is not None and panel.maps.done == 4, timeout=TIMEOUT)
    settle(qtbot, panel)
    view = panel.player.model_view
    assert view.heat is not None and view.colorbar.isVisible()
    panel.map_range.setCurrentIndex(panel.map_range.findData("video"))
    finite = panel.maps.maps[np.isfinite(panel.maps.maps)]
    assert view.scale.low == pytest.approx(float(finite.min()))
    panel.frame_to_inputs()
    qtbot.waitUntil(lambda: panel.window_.inputs.list.count() == 3, timeout=TIMEOUT)
    assert panel.export_timeline(str(tmp_path / "timeline.png"))
    written = []
    panel.export_video(str(tmp_path / "annotated.mp4"), on_done=written.append)
    qtbot.waitUntil(lambda: bool(written), timeout=TIMEOUT)
    with av.open(written[0]) as container:
        frames = [f.to_ndarray(format="rgb24")
                  for f in container.decode(container.streams.video[0])]
    assert len(frames) == 31 and frames[0].shape[1] == 160  # frames 0 … 30
    assert frames[0][96:].max() > 200  # the label band is not empty
    panel.with_timeline.setChecked(True)
    written.clear()
    panel.export_video(str(tmp_path / "with-timeline.gif"), on_done=written.append)
    qtbot.waitUntil(lambda: bool(written), timeout=TIMEOUT)
    with av.open(written[0]) as container:
        first = next(container.decode(container.streams.video[0])).to_ndarray(format="rgb24")
    assert first.shape[0] > frames[0].shape[0] + 100  # the timeline under the frame
    assert panel.export_maps(str(tmp_path / "maps.npy"))
    assert np.load(tmp_path / "maps.npy").shape == (4, 224, 224)
    settle(qtbot, panel)
