"""``workbench video-occlusion``: the JSON summary of a real encoded video (image model and
clip model), the drop plot read back, the table, and bad options in one line."""

import json

import numpy as np
import pytest
from PIL import Image

from tests.io.video_corpus import make_video
from workbench.cli import main

LITTLE = "digits_lenet"  # a fast built-in image model where the model does not matter


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("cli-video-occlusion") / "clip.mp4", frames=30,
                      size=(160, 96))


def run_json(capsys, *argv):
    assert main(["video-occlusion", *map(str, argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_image_model_json_and_plot(tmp_path, capsys, video):
    plot = tmp_path / "drops.png"
    summary = run_json(capsys, video, "--start", "4", "--frames", "10", "--window", "3",
                       "--stride", "2", "--fill", "freeze", "--out", plot)
    assert summary["model"] == "efficientnet_lite0" and summary["mode"] == "per-frame mean"
    assert summary["clip"]["indices"] == list(range(4, 14)) and summary["clip"]["step"] == 1
    assert summary["positions"] == [0, 2, 4, 6]
    assert summary["frame_numbers"] == [4, 6, 8, 10]
    assert summary["window_frames"][-1] == [10, 12]
    assert summary["fill"] == "freeze" and summary["window"] == 3
    assert 0 < summary["base_prob"] <= 1 and summary["label"]
    drops, probs = np.array(summary["drops"]), np.array(summary["occluded_probs"])
    np.testing.assert_allclose(drops, summary["base_prob"] - probs, atol=1e-6)
    assert len(summary["per_frame"]) == 10 and summary["per_frame"][-1] is None  # uncovered
    assert summary["most_important"]["drop"] == pytest.approx(drops.max())
    with Image.open(plot) as picture:
        assert picture.format == "PNG" and picture.width > 600
        assert "Temporal occlusion" in picture.text["Title"]
        assert "temporal occlusion" in picture.text["Caption"]
        pixels = np.asarray(picture.convert("RGB"))
    assert pixels.min() < 60 and pixels.max() > 200  # something is drawn


def test_clip_model_defaults_to_its_own_clip(capsys, video):
    summary = run_json(capsys, video, "--model", "r3d_18:random", "--frames", "8",
                       "--window", "4", "--stride", "4", "--fill", "grey")
    assert summary["mode"] == "clip" and summary["clip"]["step"] == 2  # 25 fps, 15 fps model
    assert summary["clip"]["indices"] == list(range(0, 16, 2))
    assert summary["positions"] == [0, 4] and summary["window_frames"] == [[0, 6], [8, 14]]
    assert all(np.isfinite(summary["drops"]))


def test_table(capsys, video):
    assert main(["video-occlusion", str(video), "--model", LITTLE, "--frames", "6",
                 "--window", "2", "--stride", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{LITTLE}: ") and "window 2, stride 2" in lines[0]
    assert len(lines) == 2 + 3 + 1 and lines[2].split()[0] == "0–1"
    assert lines[-1].startswith("largest drop")


@pytest.mark.parametrize("argv, code, message", [
    (["--window", "0"], 1, "at least 1 frame"), (["--stride", "0"], 1, "stride"),
    (["--window", "20"], 1, "longer than the 16-frame clip"),
    (["--start", "99"], 1, "outside the video"), (["--out", "plot.txt"], 1, ".png or .svg"),
    (["--frames", "0"], 1, "at least one frame")])
def test_bad_options_are_one_line(capsys, video, argv, code, message):
    assert main(["video-occlusion", str(video), "--model", LITTLE, *argv]) == code
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_unknown_fill_is_a_usage_error(capsys, video):
    with pytest.raises(SystemExit) as exit_info:
        main(["video-occlusion", str(video), "--fill", "blur"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'blur'" in error and error.count("\n") == 1


def test_not_a_video(tmp_path, capsys):
    path = tmp_path / "notes.mp4"
    path.write_text("hello")
    assert main(["video-occlusion", str(path)]) == 1
    assert "Cannot open video" in capsys.readouterr().err
