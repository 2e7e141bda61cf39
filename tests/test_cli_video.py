"""``workbench video``: JSON summary, the timeline figure, the annotated MP4 and GIF read
back with PyAV, probabilities as CSV / NPZ, maps as NPY, and bad files in one line."""

import json

import av
import numpy as np
import pytest

from tests.io.video_corpus import make_video
from workbench.cli import main


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("cli-video") / "clip.mp4", frames=30,
                      size=(160, 96))


def run_json(capsys, *argv):
    assert main(["video", *map(str, argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_summary_and_aggregations(capsys, clip):
    summary = run_json(capsys, clip, "--every", "5", "--average", "window:3")
    assert summary["frames"]["indices"] == [0, 5, 10, 15, 20, 25]
    assert summary["video"]["frame_count"] == 30 and summary["video"]["codec"] == "h264"
    assert len(summary["video_top"]) == 5 and summary["aggregation"] == "window:3"
    assert summary["formula"].startswith("p(") and "/ 6 =" in summary["formula"]
    tops = [run_json(capsys, clip, "--every", "5", "--average", a)["video_top"][0]["prob"]
            for a in ("mean", "vote", "ema:0.5")]
    assert all(0 < p <= 1 for p in tops)


def test_exports_read_back(tmp_path, capsys, clip):
    timeline, movie, csv = tmp_path / "t.png", tmp_path / "a.mp4", tmp_path / "p.csv"
    maps, npz = tmp_path / "m.npy", tmp_path / "p.npz"
    run_json(capsys, clip, "--every", "10", "--out", timeline, "--save-probs", csv)
    from PIL import Image

    assert "Per-frame probabilities" in Image.open(timeline).text["Title"]
    lines = csv.read_text().splitlines()
    assert lines[0] == "frame,time,class,probability,smoothed" and len(lines) == 1 + 3 * 5
    run_json(capsys, clip, "--every", "10", "--cam", "gradcam", "--out", movie,
             "--save-maps", maps, "--save-probs", npz)
    assert np.load(maps).shape == (3, 224, 224)
    assert np.load(npz)["probs"].shape == (3, 1000)
    with av.open(str(movie)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(frames) == 21 and frames[0].shape[1] == 160  # frames 0 … 20
    band = frames[0][96:]  # the text burned in under the picture
    assert band.shape[0] > 10 and band.max() > 200 and band.min() < 60
    gif = tmp_path / "a.gif"
    run_json(capsys, clip, "--every", "10", "--range", "0:11", "--out", gif)
    with av.open(str(gif)) as container:
        assert sum(1 for _ in container.decode(container.streams.video[0])) == 11


@pytest.mark.parametrize("argv, message", [
    (["--every", "0"], "at least 1"), (["--average", "median"], "aggregation"),
    (["--range", "50:60"], "empty"), (["--range", "x"], "--range")])
def test_bad_options_are_one_line(capsys, clip, argv, message):
    assert main(["video", str(clip), *argv]) == 1
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_a_file_that_is_not_a_video(tmp_path, capsys):
    path = tmp_path / "notes.mp4"
    path.write_text("hello")
    assert main(["video", str(path)]) == 1
    assert "Cannot open video" in capsys.readouterr().err


def test_a_clip_model_slides_clips_over_the_video(tmp_path, capsys):
    from PIL import Image

    from workbench.core.models.motion_data import sample_video

    movie = tmp_path / "moving.mp4"
    segments = sample_video(movie)
    assert [direction for _start, direction, _digit in segments] == ["right", "down", "left",
                                                                     "up"]
    maps, timeline = tmp_path / "maps.npy", tmp_path / "timeline.png"
    summary = run_json(capsys, movie, "--model", "motion_3d", "--cam", "gradcam",
                       "--weighting", "per-time", "--save-maps", maps, "--out", timeline)
    assert summary["clips"] == {"frames": 8, "step": 1, "stride": 8,
                                "starts": list(range(0, 64, 8))}
    assert summary["frames"]["indices"] == list(range(4, 64, 8))  # each clip's centre
    assert np.load(maps).shape == (64, 32, 32)
    assert "Clip probabilities" in Image.open(timeline).text["Title"]
