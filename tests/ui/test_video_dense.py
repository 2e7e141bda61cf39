"""The Video tab with a detector or a segmenter, driven as a user would: the frame shows
its boxes (computed on demand, cached by frame), stepping shows the next frame's, the
score threshold and track ids redraw without the model, Run fills every frame, Export
annotated MP4 writes the drawings, a segmenter colours the classes."""

import av
import numpy as np
import pytest

from tests.core.tasks.test_dense_video import make_moving_video
from tests.core.tasks.toys import toy_detector, toy_segmenter
from workbench.io.palette import class_colors

TIMEOUT = 30_000


@pytest.fixture
def panel(qtbot, tmp_path):
    from workbench.ui.state import AppState
    from workbench.ui.tabs.video.panel import VideoPanel
    from workbench.worker import Runner

    state, runner, io = AppState(), Runner("dense-test"), Runner("dense-test-io")
    widget = VideoPanel(state, runner, io)
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    widget.show()
    errors = []
    state.message.connect(lambda text, error: errors.append(text) if error else None)
    state.set_model(toy_detector())
    state.set_video(str(make_moving_video(tmp_path / "squares.mp4")))
    qtbot.waitUntil(lambda: widget.player.frame is not None and 0 in widget.dense.cache,
                    timeout=TIMEOUT)
    widget.errors = errors
    yield widget
    assert not errors, errors
    assert runner.shutdown() and io.shutdown()


def idle(qtbot, panel):
    qtbot.waitUntil(lambda: panel.runner.is_idle() and panel.io_runner.is_idle()
                    and not panel.dense.busy, timeout=TIMEOUT)


def shown(panel):
    return panel.player.raw_view.image


def test_the_frame_shows_its_boxes_and_follows_the_player(qtbot, panel):
    dense = panel.dense
    assert dense.box.isVisible() and not panel.class_boxes[1].isVisible()
    assert not panel.timeline.isVisible() and panel.every.value() == 1
    idle(qtbot, panel)
    dense.threshold.setValue(0.0)
    colours = class_colors(3)
    picture = shown(panel)
    assert (picture[40:50, 86:88] == colours[1]).all()  # box "square": right edge at 86–87
    assert "3 boxes" in dense.now.text() and "fps" in dense.speed.text()
    assert [entry[1] for entry in dense.legend.entries] == ["disc", "square", "ring"]
    seen = (panel.player.model_view.image * 255 + 0.5).astype(np.uint8)
    assert (seen[12:25, 42:44] == colours[1]).all()  # in the model's input pixels
    panel.player.step(5)
    qtbot.waitUntil(lambda: panel.player.index == 5 and 5 in dense.cache, timeout=TIMEOUT)
    idle(qtbot, panel)
    assert dense.now.text().startswith("<b>Frame 5</b>")
    scores = dense.cache[5].scores
    dense.threshold.setValue(float(np.sort(scores)[1]) + 1e-3)  # only the best box stays
    assert "1 box " in dense.now.text()
    assert len(dense.cache) == 2  # no model run for a new threshold
    dense.track.setChecked(True)
    assert list(dense.track_ids(5)[scores >= dense.threshold.value()]) != [-1]


def test_run_fills_every_frame_then_export_writes_the_boxes(qtbot, panel, tmp_path):
    dense = panel.dense
    panel.last.setValue(11)
    panel.run_button.click()
    qtbot.waitUntil(lambda: panel.status.text().startswith("done"), timeout=TIMEOUT)
    assert set(range(12)) <= set(dense.cache) and "batched" in dense.speed.text()
    dense.threshold.setValue(0.0)
    dense.track.setChecked(True)
    ids = [tuple(sorted(zip(dense.cache[i].labels.tolist(), dense.track_ids(i).tolist(),
                            strict=True)))
           for i in range(12)]  # (class, id) of each frame, whatever the score order
    assert len(set(ids)) == 1 and sorted(i for _c, i in ids[0]) == [1, 2, 3]  # fixed boxes
    written = []
    dense.export(str(tmp_path / "boxes.mp4"), on_done=written.append)
    qtbot.waitUntil(lambda: bool(written), timeout=TIMEOUT)
    with av.open(written[0]) as container:
        frames = [f.to_ndarray(format="rgb24")
                  for f in container.decode(container.streams.video[0])]
    assert len(frames) == 12
    edge = frames[6][40:50, 86:88].reshape(-1, 3).astype(np.float32).mean(0)
    assert np.abs(edge - class_colors(3)[1]).max() < 40
    idle(qtbot, panel)


def test_a_segmenter_colours_the_frame(qtbot, panel):
    panel.state.set_model(toy_segmenter())
    qtbot.waitUntil(lambda: 0 in panel.dense.cache and panel.dense.model.task ==
                    "segmentation", timeout=TIMEOUT)
    idle(qtbot, panel)
    assert not panel.dense.threshold.isVisibleTo(panel) and panel.dense.alpha.isVisibleTo(panel)
    assert "%" in panel.dense.now.text()
    before = shown(panel).copy()
    panel.dense.alpha.setValue(1.0)
    assert not np.array_equal(before, shown(panel))
    assert panel.dense.legend.entries
