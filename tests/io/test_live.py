"""Live frames (workbench.io.live): the latest-wins mailbox, a file played as a camera,
the one-job-in-flight scheduler and the MP4 recorder."""

import threading
import time

import numpy as np
import pytest

from tests.io.video_corpus import index_of, make_video, pattern
from workbench.io.live import (
    FileFrameSource,
    LatestFrame,
    LiveScheduler,
    Recorder,
    stats_text,
)
from workbench.io.video import VideoReader


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """25 frames at 25 fps: one second."""
    return make_video(tmp_path_factory.mktemp("live") / "clip.mp4", frames=25, fps=25)


# ------------------------------------------------------------------- mailbox
def test_latest_frame_keeps_only_the_newest_under_a_fast_producer():
    box = LatestFrame()
    assert box.take() is None
    taken = []

    def produce():
        for number in range(2000):
            box.put(number, float(number))

    producer = threading.Thread(target=produce)
    producer.start()
    while producer.is_alive():
        captured = box.take(timeout=0.01)
        if captured is not None:
            taken.append(captured.frame)
        time.sleep(0.002)
    producer.join()
    last = box.take()
    if last is not None:
        taken.append(last.frame)
    assert taken[-1] == 1999 and taken == sorted(taken)  # newest last, never out of order
    assert box.received == 2000 and box.taken == len(taken)
    assert box.dropped == 2000 - len(taken) > 0
    assert box.take() is None


def test_take_waits_for_a_frame_and_close_wakes_it():
    box = LatestFrame()
    threading.Timer(0.05, box.put, args=("frame", 1.5)).start()
    captured = box.take(timeout=2.0)
    assert captured.frame == "frame" and captured.time == 1.5
    threading.Timer(0.05, box.close).start()
    start = time.monotonic()
    assert box.take(timeout=2.0) is None and time.monotonic() - start < 1.0


# --------------------------------------------------------------- file source
def test_file_source_plays_at_the_real_rate(clip):
    source = FileFrameSource(clip, loop=False)
    stamps, indices = [], []
    with source:
        assert source.wait_ready().fps == pytest.approx(25.0)
        while (captured := source.frames.take(timeout=2.0)) is not None:
            stamps.append(captured.time)
            indices.append(index_of(captured.frame))
    assert not source.running and source.error is None
    assert source.sent + source.late == 25 and source.sent >= 20
    wall = stamps[-1] - stamps[0]
    assert 0.6 < wall < 1.6, wall  # 24 frame intervals of 40 ms = 0.96 s
    assert indices == sorted(indices) and indices[-1] == 24


def test_a_slow_consumer_gets_the_latest_frames_and_the_rest_are_dropped(clip):
    source = FileFrameSource(clip, loop=False)
    indices = []
    with source:
        while (captured := source.frames.take(timeout=2.0)) is not None:
            indices.append(index_of(captured.frame))
            time.sleep(0.1)  # 2.5 frame intervals
    assert source.frames.dropped > 0
    assert len(indices) < 20 and indices == sorted(set(indices))  # skipped, never queued
    assert source.frames.received == source.sent


def test_loop_callback_and_stop_joins_quickly(clip):
    got = []
    source = FileFrameSource(clip, loop=True, realtime=False,
                             sink=lambda frame, t: got.append(t))
    source.start()
    deadline = time.monotonic() + 10
    while len(got) < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.monotonic()
    assert source.stop() and time.monotonic() - start < 1.0
    assert len(got) >= 60 and not source.running  # past the end: it looped
    assert got == sorted(got)


def test_a_file_that_is_no_video_sets_the_error(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    messages = []
    source = FileFrameSource(bad, on_error=messages.append).start()
    assert source.wait_ready() is None
    source.stop()
    assert source.error and messages == [source.error]
    assert source.frames.take(timeout=0.5) is None and source.frames.closed


# ----------------------------------------------------------------- scheduler
def test_scheduler_runs_one_job_and_keeps_only_the_newest_waiting():
    live = LiveScheduler()
    assert live.offer("a", 0.0) == "a" and live.busy
    assert live.offer("b", 0.1) is None and live.pending.frame == "b"
    assert live.offer("c", 0.2) is None and live.pending.frame == "c"
    assert live.dropped == 1
    assert live.finished(0.25) == "c"  # latency of "a": 0.25 s
    assert live.in_flight.frame == "c" and live.pending is None
    assert live.finished(0.30) is None and not live.busy  # latency of "c": 0.10 s
    assert live.latency() == pytest.approx(0.175)
    assert live.latency(100) == pytest.approx(0.25)
    assert live.done == 2 and live.started == 2 and live.offered == 3
    assert live.offer("d", 0.4) == "d"  # idle again: runs at once


def test_scheduler_never_has_more_than_one_in_flight():
    live, in_flight, peak = LiveScheduler(), 0, 0
    rng = np.random.default_rng(0)
    for step in range(500):
        t = step * 0.01
        if live.offer(step, t) is not None:
            in_flight += 1
        if in_flight and rng.random() < 0.3:
            in_flight -= 1
            if live.finished(t) is not None:
                in_flight += 1
        peak = max(peak, in_flight)
    assert peak == 1
    assert live.started + live.dropped + (live.pending is not None) == 500


def test_scheduler_fps_over_its_window_and_failures_do_not_count():
    live = LiveScheduler(window_s=1.0)
    for number in range(21):  # a result every 50 ms for a second: 20 fps
        live.offer(number, number * 0.05 - 0.03)
        live.finished(number * 0.05)
    assert live.fps() == pytest.approx(20.0)
    assert live.fps(now=5.0) == 0.0  # nothing finished lately
    assert live.latency() == pytest.approx(0.03)
    live.offer("x", 1.1)
    assert live.finished(1.5, ok=False) is None
    assert live.failed == 1 and live.done == 21
    live.offer("y", 2.0)
    live.offer("z", 2.1)
    live.reset()
    assert not live.busy and live.pending is None and live.dropped == 1
    assert np.isnan(LiveScheduler().latency())


def test_stats_text():
    assert stats_text(12.34, 0.0851, 40) == "12.3 fps · latency 85 ms · dropped 40"
    assert stats_text(0.0, float("nan"), 0) == "0.0 fps · latency – · dropped 0"


# ------------------------------------------------------------------ recorder
def test_recorder_writes_a_decodable_mp4_at_the_frames_times(tmp_path):
    out = tmp_path / "live.mp4"
    start = time.monotonic()
    with Recorder(out, fps=25) as recorder:
        for number in range(30):
            recorder.append(pattern(number), start + number * 0.04)
        assert not out.exists()  # only once it is closed
    assert recorder.written == 30 and recorder.dropped == 0
    with VideoReader(out) as reader:
        assert reader.info.frame_count == 30 and reader.info.fps == pytest.approx(25, rel=0.05)
        assert reader.info.duration == pytest.approx(1.2, abs=0.1)
        assert [index_of(reader.frame_uint8(i)) for i in (0, 13, 29)] == [0, 13, 29]
    assert [p.name for p in tmp_path.iterdir()] == ["live.mp4"]  # no temporary file left


def test_recorder_keeps_real_time_when_frames_were_skipped(tmp_path):
    out = tmp_path / "gaps.mp4"
    recorder = Recorder(out, fps=25)
    for number, stamp in enumerate((0.0, 0.04, 0.5, 0.54, 1.0)):
        recorder.append(pattern(number, 97, 65), 10.0 + stamp)  # odd sizes are evened
    assert recorder.close() == out
    with VideoReader(out) as reader:
        assert reader.info.frame_count == 5 and (reader.info.width, reader.info.height) == (96, 64)
        assert reader.time_of(2) == pytest.approx(0.5, abs=0.01)
        assert reader.time_of(4) == pytest.approx(1.0, abs=0.01)


def test_recorder_abort_and_empty_leave_no_file(tmp_path):
    aborted = Recorder(tmp_path / "aborted.mp4", fps=25)
    aborted.append(pattern(0))
    aborted.abort()
    empty = Recorder(tmp_path / "empty.mp4", fps=25)
    assert empty.close() is None
    assert list(tmp_path.iterdir()) == []
    assert not empty.append(pattern(1))  # closed
