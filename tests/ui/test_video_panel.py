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
    qtbot.waitUntil(lambda: player.index == 39, timeout=TIMEOUT)  # the last frame, decoded
    assert index_of(player.frame) == 39
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


def test_a_clip_model_gives_a_clip_timeline_and_spatiotemporal_maps(qtbot, panel):
    win = panel.window_
    win.model_dock.load("r3d_18:random")
    qtbot.waitUntil(lambda: win.state.model is not None
                    and win.state.model.name == "r3d_18:random", timeout=TIMEOUT)
    settle(qtbot, panel)
    assert panel.clip_step.isVisibleTo(panel) and not panel.every.isVisibleTo(panel)
    assert "16 frames a clip" in panel.clip_about.text()
    assert panel.clip_step.value() == 2  # 25 fps video, trained at 15 fps
    panel.clip_stride.setValue(8)
    panel.run_button.click()
    qtbot.waitUntil(lambda: panel.status.text().startswith("done"), timeout=TIMEOUT)
    result = panel.predictions
    assert result.starts.tolist() == [0, 8] and "clips" in panel.status.text()
    assert len(panel.timeline.curves) == 5
    assert "Clip from frame" in panel.now.text()
    panel.weighting.setCurrentIndex(panel.weighting.findData("per-time"))
    assert panel.weighting.isEnabled()  # Grad-CAM has channel weights
    panel.maps_button.click()
    qtbot.waitUntil(lambda: panel.maps is not None and panel.maps.done == len(panel.maps.indices),
                    timeout=TIMEOUT)
    settle(qtbot, panel)
    assert panel.maps.maps.shape[1:] == (112, 112)
    assert "per time slice" in panel.player.model_view.title.text()


def test_which_moments_matter_draws_the_drops_on_the_timeline(qtbot, panel):
    panel.every.setValue(2)
    panel.player.seek_index(4)
    qtbot.waitUntil(lambda: panel.player.index == 4, timeout=TIMEOUT)
    panel.hide_frames.setValue(8)
    panel.hide_window.setValue(2)
    panel.hide_button.click()
    qtbot.waitUntil(lambda: panel.moments_result is not None
                    and panel.moments_result.done == panel.moments_result.total,
                    timeout=TIMEOUT)
    result = panel.moments_result
    assert panel._moment_indices.tolist() == list(range(4, 20, 2))
    assert result.total == 7 and np.isfinite(result.drops).all()
    assert panel.timeline.drops is not None
    assert panel.legend.entries[-1][1].startswith("drop when hidden")
    assert "drops it most" in panel.moments.text()
    settle(qtbot, panel)


def test_the_motion_lesson_in_two_clicks(qtbot, open_window):
    win = open_window()
    lesson = next(a for a in win.samples_menu.actions() if "Motion lesson" in a.text())
    lesson.trigger()  # File → Samples → Motion lesson
    video = win.panel("Video")
    assert win.tabs.currentWidget() is video
    qtbot.waitUntil(lambda: video.maps is not None and video.maps.done == len(video.maps.indices)
                    and video.predictions is not None and video.predictions.done == 8,
                    timeout=TIMEOUT)
    qtbot.waitUntil(win.is_settled, timeout=TIMEOUT)
    assert win.state.model.name == "motion_3d" and video.clip_step.value() == 1
    top1 = [win.state.model.label(int(p.argmax())) for p in video.predictions.probs]
    assert top1 == ["right", "right", "down", "down", "left", "left", "up", "up"]
    assert video.maps.maps.shape == (64, 32, 32)
