"""An image model on a video: per-frame predictions equal the image path on the same
decoded frame, aggregations equal their formulas, a frame's map equals the Attribution
core's, and the cache serves frames already seen."""

import numpy as np
import pytest
import torch

from tests.io.video_corpus import make_video
from workbench.core.attribution import attribute
from workbench.core.predict import predict_image
from workbench.core.preprocess import model_input
from workbench.core.video import (
    aggregate,
    frame_maps,
    frame_predictions,
    mean_formula,
    parse_aggregation,
    sampled_frames,
)
from workbench.core.video import frames as frames_module
from workbench.errors import InputError
from workbench.io.video import VideoReader, read_info


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("video") / "clip.mp4", frames=30,
                      size=(160, 96))


def test_sampling_every_k_or_per_second(clip):
    info = read_info(clip)
    assert sampled_frames(info).tolist() == list(range(0, 30, 12))  # 25 fps, 2 a second
    assert sampled_frames(info, every=5, start=3, stop=20).tolist() == [3, 8, 13, 18]
    with pytest.raises(InputError, match="empty"):
        sampled_frames(info, start=40)


def test_per_frame_predictions_equal_the_image_path(lite0, clip):
    frames_module._cache.clear()
    result = frame_predictions(lite0, clip, [0, 7, 29], batch_size=2)
    assert result.done == 3 and result.probs.shape == (3, 1000)
    with VideoReader(clip) as reader:
        for row, index in enumerate((0, 7, 29)):
            expected, _ = predict_image(lite0, reader.frame(index), 5)
            np.testing.assert_allclose(result.probs[row], expected.probs, atol=2e-5)
    again = frame_predictions(lite0, clip, [0, 7, 12, 29])
    assert again.from_cache == 3 and again.done == 4
    np.testing.assert_allclose(again.probs[[0, 1, 3]], result.probs, atol=1e-3)  # float16


def test_aggregations_equal_their_formulas():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=9)
    smoothed, video = aggregate(probs, "mean")
    np.testing.assert_allclose(video, probs.mean(0))
    np.testing.assert_allclose(smoothed[4], probs[:5].mean(0))
    smoothed, video = aggregate(probs, "window", 3)
    np.testing.assert_allclose(smoothed[4], probs[3:6].mean(0))
    np.testing.assert_allclose(smoothed[0], probs[0:2].mean(0))  # shorter at the ends
    smoothed, video = aggregate(probs, "ema", 0.25)
    expected = probs[0]
    for p in probs[1:]:
        expected = 0.25 * p + 0.75 * expected
    np.testing.assert_allclose(video, expected)
    smoothed, video = aggregate(probs, "vote")
    np.testing.assert_allclose(video, np.bincount(probs.argmax(1), minlength=4) / 9)
    assert parse_aggregation("window:7") == ("window", 7.0)
    assert parse_aggregation("ema:0.5") == ("ema", 0.5)
    for bad in ("median", "window:x", "ema:2"):
        with pytest.raises(InputError):
            parse_aggregation(bad)


def test_the_lecture_formula_is_filled_in():
    probs = np.array([[0.979, 0.021], [0.956, 0.044], [0.989, 0.011], [0.976, 0.024]])
    assert mean_formula(probs, 0, "horse") == \
        "p(horse in video) = (97.9 + 95.6 + 98.9 + 97.6) / 4 = 97.5 %"


def test_a_frame_map_equals_the_attribution_core(lite0, clip):
    maps = frame_maps(lite0, clip, [5, 20], "gradcam", batch_size=2)
    assert maps.maps.shape == (2, 224, 224) and maps.layer == "_act1"
    with VideoReader(clip) as reader:
        x = model_input(lite0, reader.frame(20))
    expected = attribute(lite0, x, "gradcam").numpy()[0]
    np.testing.assert_allclose(maps.maps[1], expected, rtol=1e-4, atol=1e-5)
    assert maps.targets[1] == int(torch.as_tensor(attribute(lite0, x, "gradcam").targets[0]))


def test_a_clip_model_is_refused_with_a_reason(clip):
    from workbench.core.models import load_model

    video_model = load_model("r3d_18:random")
    with pytest.raises(InputError, match="clip model"):
        frame_predictions(video_model, clip, [0])
