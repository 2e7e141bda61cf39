"""The Video tab's Live page, driven as a user would: a file played live through a tiny
model, the stats line, Grad-CAM on and off, Freeze, Record, Stop (no thread left), the
camera entry when there is no camera, a clip model, a broken file."""

import re
import threading
import time

import numpy as np
import pytest
import torch
from PySide6.QtCore import QObject, QTimer
from torch import nn

from tests.io.video_corpus import index_of, make_video, pattern
from workbench.core.models.registry import wrap_model
from workbench.io.video import VideoReader
from workbench.ui.tabs.video import live_page
from workbench.ui.tabs.video.camera import rgb_array
from workbench.ui.tabs.video.live_page import LivePage
from workbench.worker import Runner

TIMEOUT = 20_000
PREP = {"mean": (0.5,) * 3, "std": (0.5,) * 3, "input_size": (32, 32)}
LABELS = ["Egyptian cat", "tabby", "espresso"]


def tiny_model(kind: str = "image"):
    torch.manual_seed(0)
    conv, pool = (nn.Conv3d, nn.AdaptiveAvgPool3d) if kind == "video" else \
        (nn.Conv2d, nn.AdaptiveAvgPool2d)
    net = nn.Sequential(conv(3, 4, 3, padding=1), nn.ReLU(), pool(1), nn.Flatten(),
                        nn.Linear(4, 3))
    prep = dict(PREP, num_frames=4) if kind == "video" else PREP
    return wrap_model(net, prep, LABELS, f"tiny-{kind}", "test", kind, "cpu")


def live_threads():
    return [t for t in threading.enumerate() if t.name.startswith("live-") and t.is_alive()]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("live-page") / "clip.mp4", frames=50, fps=25)


@pytest.fixture
def page(qtbot):
    runner = Runner("test-live-worker")
    widget = LivePage(runner)
    qtbot.addWidget(widget)
    widget.resize(1000, 640)
    widget.show()
    yield widget
    widget.stop()
    assert runner.shutdown(2.0)
    assert not live_threads()


def test_a_file_played_live_predicts_the_newest_frames(qtbot, page, clip, tmp_path):
    page.set_model(tiny_model())
    page.set_video_path(clip)
    assert page.source_combo.currentData() == "file" and page.file_label.text() == "clip.mp4"
    assert page.start() and page.running and not page.start_button.isEnabled()
    qtbot.waitUntil(lambda: page.result is not None and page.scheduler.fps() > 0,
                    timeout=TIMEOUT)
    assert re.fullmatch(r"(Egyptian cat|tabby|espresso) \d+\.\d %", page.top_label.text())
    assert page.view.heat is None and [r["label"] for r in page.chart._rows] == [
        s.label for s in page.result.top] and page.top_label.text().startswith(
        page.result.top[0].label)  # the chart, the label and the frame agree
    stats = re.compile(r"[1-9]\d*\.\d fps · latency \d+ ms · dropped \d+")
    qtbot.waitUntil(lambda: bool(stats.fullmatch(page.stats.text())), timeout=TIMEOUT)
    assert page.scheduler.done >= 2 and not page.scheduler.failed

    page.cam_box.setChecked(True)  # Grad-CAM over the frame, with its colour bar
    qtbot.waitUntil(lambda: page.view.heat is not None, timeout=TIMEOUT)
    assert page.view.heat.shape == (32, 32) and page.view.colorbar.isVisible()
    assert page.view.map_rect == (16, 0, 64, 64)  # the centre crop of a 96×64 frame
    assert "Grad-CAM" in page.view.title.text()
    page.cam_box.setChecked(False)
    assert page.view.heat is None

    with qtbot.waitSignal(page.frozen, timeout=TIMEOUT) as frozen:
        page.freeze_button.click()
    image, name = frozen.args
    assert image.dtype == np.float32 and image.shape == (64, 96, 3) and 0 <= image.min()
    assert image.max() <= 1 and "clip.mp4" in name
    np.testing.assert_array_equal(np.round(image * 255).astype(np.uint8), page.shown)

    out = tmp_path / "recorded.mp4"
    assert page.start_recording(out) and page.record_button.isChecked()
    qtbot.waitUntil(lambda: page.recorder.written >= 10, timeout=TIMEOUT)
    assert page.stop_recording() == out and not page.record_button.isChecked()
    with VideoReader(out) as reader:
        assert reader.info.frame_count >= 10
        shown = [index_of(reader.frame_uint8(i)) for i in range(reader.info.frame_count)]
    assert all(0 <= i < 50 for i in shown)

    page.stop_button.click()
    assert page.status.text() == "Stopped." and not page.running and not live_threads()
    assert page.start_button.isEnabled() and not page.stop_button.isEnabled()
    assert page.runner.pending_count() <= 1  # at most the cancelled job, still reporting
    qtbot.waitUntil(page.runner.is_idle, timeout=TIMEOUT)


def test_without_a_camera_the_entry_is_disabled(qtbot, page, monkeypatch):
    monkeypatch.setattr(live_page, "camera_devices", lambda: ([], "no camera here"))
    page.refresh_sources()
    combo = page.source_combo
    first = combo.model().item(0)
    assert first.text() == "No camera found" and not first.isEnabled()
    assert first.toolTip() == "no camera here"
    assert combo.currentData() == "file"
    monkeypatch.setattr(page, "ask_open_path", lambda: "")  # the user cancels the dialog
    assert not page.start() and not page.running
    page.freeze()
    assert "Nothing to freeze" in page.status.text()


class FakeDevice:
    def description(self):
        return "Test camera"


class FakeCamera(QObject):
    """What ``CameraSource`` does, without Qt Multimedia: frames from a timer."""

    stopped = 0

    def __init__(self, device, sink, parent=None):
        super().__init__(parent)
        self.frames, self.error, self.fps, self.count = sink, None, 25.0, 0
        self.timer = QTimer(self, interval=40, timeout=self._frame)

    def start(self):
        self.timer.start()
        return self

    def stop(self, _timeout=1.0):
        FakeCamera.stopped += 1
        self.timer.stop()
        return True

    def _frame(self):
        self.frames.put(pattern(self.count % 200, 64, 48), time.monotonic())
        self.count += 1


def test_a_camera_is_listed_and_runs_like_a_file(qtbot, page, monkeypatch):
    monkeypatch.setattr(live_page, "camera_devices", lambda: ([FakeDevice()], ""))
    monkeypatch.setattr(live_page, "CameraSource", FakeCamera)
    page.refresh_sources()
    combo = page.source_combo
    assert combo.itemText(0) == "Camera: Test camera" and combo.currentData() == "camera:0"
    assert combo.model().item(0).isEnabled()
    page.set_model(tiny_model())
    assert page.start() and page.source_name == "Test camera"
    qtbot.waitUntil(lambda: page.result is not None and page.scheduler.done >= 3,
                    timeout=TIMEOUT)
    assert page.shown.shape == (48, 64, 3)
    page.refresh_sources()  # listing again keeps the choice
    assert combo.currentData() == "camera:0"
    page.stop()
    assert FakeCamera.stopped == 1 and not page.running


def test_model_change_and_hiding_stop_the_source(qtbot, page, clip):
    page.set_video_path(clip)
    page.start()  # no model yet: the frames alone
    qtbot.waitUntil(lambda: page.shown is not None, timeout=TIMEOUT)
    assert "no model" in page.status.text() and live_threads()
    page.set_model(tiny_model())
    assert not page.running and not live_threads()
    page.start()
    qtbot.waitUntil(lambda: page.result is not None, timeout=TIMEOUT)
    page.hide()
    assert not page.running and not live_threads()


def test_a_clip_model_takes_the_newest_frames(qtbot, page, clip):
    page.set_model(tiny_model("video"))
    assert "clip model" in page.status.text()
    page.set_video_path(clip)
    page.cam_box.setChecked(True)
    page.start()
    qtbot.waitUntil(lambda: page.result is not None, timeout=TIMEOUT)
    assert page.result.heat.shape == (32, 32) and len(page.result.top) == 3
    assert page.status.text() == "Live: clip.mp4 (clips of 4 frames, every 1)"
    page.stop()


def test_a_broken_file_stops_with_a_message(qtbot, page, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 64)
    page.set_model(tiny_model())
    page.set_video_path(bad)
    page.start()
    qtbot.waitUntil(lambda: not page.running, timeout=TIMEOUT)
    assert page.status.text().startswith("Stopped:") and "broken.mp4" in page.status.text()


def test_rgb_array_of_a_qimage():
    from workbench.ui.widgets.qt_images import qimage_from_array

    picture = pattern(5, 95, 63)  # a width whose rows are padded in a QImage
    np.testing.assert_array_equal(rgb_array(qimage_from_array(picture)), picture)
