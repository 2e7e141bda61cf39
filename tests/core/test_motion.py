"""The motion lesson: five clip models trained here on synthetic moving digits.

The shipped accuracies are re-measured on the fixed held-out clips; the per-frame model
is at chance on direction (a single frame carries no direction), the temporal ones are
not; every model loads as a clip model and gives Grad-CAM maps; the sample video
writes, decodes and shows its direction changes to the 3-D model.
"""

import json

import numpy as np
import pytest
import torch

from workbench.core.models import builtin, load_model, motion, motion_data
from workbench.core.video.clips import clips_to_input
from workbench.resources import resource_path

NAMES = motion.MODEL_NAMES
TEMPORAL = ("motion_late", "motion_early", "motion_3d", "motion_lstm")
S, T = motion.INPUT_SIZE, motion.NUM_FRAMES


@pytest.fixture(scope="module")
def meta():
    return json.loads(resource_path("models", "motion.json").read_text())


@pytest.fixture(scope="module")
def held_out(meta):
    (setting,) = {(m["held_out"]["seed"], m["held_out"]["size"]) for m in meta.values()}
    return motion_data.make_dataset(setting[1], "held_out", seed=setting[0])


@pytest.fixture(scope="module")
def models():
    return {name: load_model(name) for name in NAMES}


@pytest.fixture(scope="module")
def accuracies(models, held_out):
    """Each model's held-out accuracy, measured through the app's pixel-space wrapper."""
    clips, directions, digits = held_out
    result = {}
    for name, model in models.items():
        truth = digits if name.endswith(motion.DIGIT_SUFFIX) else directions
        with torch.inference_mode():
            predicted = np.concatenate([
                model.module(torch.from_numpy(clips[i : i + 250])[:, None].expand(
                    -1, 3, -1, -1, -1)).argmax(1).numpy()
                for i in range(0, len(clips), 250)])
        result[name] = float((predicted == truth).mean())
    return result


def test_every_model_has_metadata(meta):
    assert tuple(meta) == NAMES == builtin.MOTION_NAMES
    for name, entry in meta.items():
        assert entry["task"] == motion.parse_name(name)[1]
        assert entry["chance"] == pytest.approx(1 / len(motion.TASKS[entry["task"]]), abs=1e-3)
        assert entry["generator"] == json.loads(json.dumps(motion_data.settings()))
        assert resource_path("models", f"{name}.pt").stat().st_size < 1_000_000


@pytest.mark.parametrize("name", NAMES)
def test_shipped_accuracy_matches_re_evaluation(meta, accuracies, name):
    assert accuracies[name] == pytest.approx(meta[name]["held_out_accuracy"], abs=0.01)


def test_per_frame_model_is_at_chance_on_direction(accuracies):
    assert abs(accuracies["motion_frame"] - 0.25) <= 0.10, accuracies["motion_frame"]


@pytest.mark.parametrize("name", TEMPORAL)
def test_temporal_models_see_the_direction(accuracies, name):
    assert accuracies[name] >= 0.90, accuracies[name]


@pytest.mark.parametrize("name", [n + motion.DIGIT_SUFFIX for n in motion.ARCHITECTURES])
def test_every_model_reads_the_digit(accuracies, name):
    assert accuracies[name] >= 0.85, accuracies[name]


def test_single_frame_position_is_the_same_for_every_direction():
    rng = np.random.default_rng(7)
    pooled = {d: np.concatenate([motion_data.frame_centres(motion_data.sample_geometry(rng, d),
                                                           d) for _ in range(4000)])
              for d in motion_data.DIRECTIONS}
    quantiles = np.linspace(0.05, 0.95, 10)
    reference = np.quantile(pooled["right"], quantiles, axis=0)
    for direction, centres in pooled.items():
        assert np.abs(np.quantile(centres, quantiles, axis=0) - reference).max() < 0.01, direction
        assert abs(np.corrcoef(centres.T)[0, 1]) < 0.03, direction
        assert np.abs(centres.std(0)[0] - centres.std(0)[1]) < 0.003, direction


@pytest.mark.parametrize("direction,axis,sign", [("right", "x", 1), ("left", "x", -1),
                                                 ("down", "y", 1), ("up", "y", -1)])
def test_clips_move_the_digit_as_labelled(direction, axis, sign):
    images8, _ = motion_data.split_digits("train")
    geometry = motion_data.ClipGeometry(size=0.4, centre=(0.5, 0.5), speed=0.05)
    clip = motion_data.render_clip(images8[0], direction, geometry, size=64)
    assert clip.shape == (T, 64, 64) and clip.dtype == np.float32
    ink = clip - geometry.background
    profile = ink.sum(1) if axis == "x" else ink.sum(2)  # (T, 64) along the axis
    centroid = (profile * np.arange(64)).sum(1) / profile.sum(1)
    assert np.all(sign * np.diff(centroid) > 0.8 * 0.05 * 64)


def test_render_size_keeps_the_picture():
    images8, _ = motion_data.split_digits("train")
    geometry = motion_data.ClipGeometry(size=0.4, centre=(0.45, 0.55), speed=0.04)
    small = motion_data.render_clip(images8[5], "up", geometry, size=32)
    large = motion_data.render_clip(images8[5], "up", geometry, size=128)
    shrunk = large.reshape(T, 32, 4, 32, 4).mean((2, 4))
    assert np.abs(shrunk - small).mean() < 0.02


def test_dataset_is_deterministic_and_uses_the_split():
    first = motion_data.make_dataset(16, "held_out", seed=3)
    again = motion_data.make_dataset(16, "held_out", seed=3)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    clips, directions, digits = first
    assert clips.shape == (16, T, S, S) and clips.min() >= 0 and clips.max() <= 1
    assert np.bincount(directions, minlength=4).tolist() == [4, 4, 4, 4]
    assert digits.dtype == np.int64 and digits.max() <= 9


@pytest.mark.parametrize("name", NAMES)
def test_models_load_as_clip_models_with_cams(models, name):
    from workbench.core.attribution import attribute

    model = models[name]
    architecture, task = motion.parse_name(name)
    assert model.kind == "video" and model.num_frames == T and model.input_size == (S, S)
    assert model.labels == list(motion.TASKS[task])
    assert model.extras["frame_rate"] == motion.FRAME_RATE
    layer = model.layer_info(model.default_cam_layer)
    assert layer.layout == "channels-first" and "relu3" in layer.name
    clip = torch.from_numpy(motion_data.make_dataset(4, "held_out", seed=1)[0][:1])
    clip = clip[:, None].expand(-1, 3, -1, -1, -1).contiguous()
    if architecture == "motion_early":  # a 2-D convolution: time is gone
        assert len(layer.output_shape) == 4
        result = attribute(model, clip, "gradcam")
        assert tuple(result.maps.shape) == (1, T, S, S) and torch.isfinite(result.maps).all()
        torch.testing.assert_close(result.maps[:, 0], result.maps[:, -1])  # the same map
        return
    steps = T // 2 if architecture == "motion_3d" else T  # C3D's second pooling halves time
    assert len(layer.output_shape) == 5 and layer.grid[0] == steps
    result = attribute(model, clip, "gradcam")
    assert tuple(result.maps.shape) == (1, T, S, S)
    assert torch.isfinite(result.maps).all() and result.maps.max() > 0


def test_models_are_listed_as_video():
    from workbench.core.models import available_models

    rows = {row.name: row for row in available_models()}
    for name in NAMES:
        assert rows[name].kind == "video" and rows[name].offline
        assert "held-out accuracy" in rows[name].description


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("motion") / "motion.mp4"
    return path, motion_data.sample_video(path)


def test_sample_video_writes_and_decodes(sample):
    from workbench.io.video import VideoReader

    path, segments = sample
    assert [(s[0], s[1]) for s in segments] == [(0, "right"), (16, "down"), (32, "left"),
                                                (48, "up")]
    with VideoReader(path) as reader:
        assert len(reader) == 64 and reader.info.fps == pytest.approx(motion.FRAME_RATE)
        assert reader.frame_uint8(0).shape == (128, 128, 3)


def test_sample_video_shows_each_direction(models, sample):
    from workbench.io.video import VideoReader

    path, segments = sample
    model = models["motion_3d"]
    with VideoReader(path) as reader:
        clips = np.stack([np.stack([reader.frame_uint8(first + 4 + i) for i in range(T)])
                          for first, _, _ in segments])
    with torch.inference_mode():
        predicted = model.module(clips_to_input(model, clips)).argmax(1).tolist()
    assert [model.labels[p] for p in predicted] == [s[1] for s in segments]


def test_motion_sample_is_generated_once(monkeypatch, tmp_path):
    from workbench.io import samples

    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path))
    calls = []

    def fake_sample_video(path):
        calls.append(path)
        path.parent.mkdir(parents=True)
        path.write_bytes(b"mp4")

    monkeypatch.setattr(motion_data, "sample_video", fake_sample_video)
    first = samples.motion_sample_path()
    assert samples.motion_sample_path() == first and first.is_file()
    assert first.parent == tmp_path / "samples" and len(calls) == 1
