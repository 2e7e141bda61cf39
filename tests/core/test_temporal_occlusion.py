"""Temporal occlusion equals a plain loop (hide the window by hand, run the model, take the
drop) for a clip model and for an image model's per-frame mean, for every fill; per-frame
importance equals its definition; an image model needs one forward per distinct frame;
a cancelled sweep keeps NaN for the windows not done; bad parameters say what is wrong."""

import numpy as np
import pytest
import torch
from torch import nn

from workbench.core.jobs import Cancelled, PlainContext
from workbench.core.models.registry import wrap_model
from workbench.core.preprocess import fit_to
from workbench.core.video.clips import clips_to_input
from workbench.core.video.temporal_occlusion import (
    FILLS,
    spatiotemporal_occlusion,
    temporal_occlusion,
)
from workbench.errors import InputError

FRAMES, SIZE = 8, 16
PREP = {"mean": (0.5,) * 3, "std": (0.5,) * 3, "input_size": (SIZE, SIZE), "num_frames": FRAMES}


def _sharpen(net: nn.Module) -> nn.Module:
    """Larger output weights, so hiding frames moves the probabilities visibly."""
    with torch.no_grad():
        net[-1].weight.mul_(40.0)
    return net


@pytest.fixture(scope="module")
def clip_model():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv3d(3, 2, 3, padding=1), nn.ReLU(),
                        nn.AdaptiveAvgPool3d((FRAMES, 2, 2)), nn.Flatten(),
                        nn.Linear(2 * FRAMES * 4, 5))
    return wrap_model(_sharpen(net), PREP, [], "tiny-clip", "test", "video", "cpu")


@pytest.fixture(scope="module")
def image_model():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                        nn.Linear(16, 5))
    return wrap_model(_sharpen(net), PREP, [], "tiny-image", "test", "image", "cpu")


@pytest.fixture(scope="module")
def clip():
    """Eight 20×24 frames (cropped and resized to 16×16); the last one repeats."""
    frames = np.random.default_rng(0).integers(0, 256, (FRAMES, 20, 24, 3), dtype=np.uint8)
    frames[-1] = frames[-2]
    return frames


def occlude_by_hand(pixels: np.ndarray, start: int, window: int, fill: str) -> np.ndarray:
    hidden = pixels.copy()
    if fill == "mean":
        hidden[start:start + window] = pixels.mean(axis=0)
    elif fill == "freeze":
        hidden[start:start + window] = pixels[max(start - 1, 0)]
    else:
        hidden[start:start + window] = 0.5
    return hidden


def clip_probs(model, pixels: np.ndarray) -> np.ndarray:
    """The clip's class probabilities, the way each kind of model predicts a clip."""
    with torch.inference_mode():
        if model.kind == "video":
            return torch.softmax(model.module(clips_to_input(model, pixels)), 1)[0].numpy()
        x = fit_to(torch.from_numpy(pixels).permute(0, 3, 1, 2), model.input_size)
        return torch.softmax(model.module(x), 1).mean(0).numpy()


def brute_force(model, clip, window, stride, fill):
    pixels = clip.astype(np.float32) / 255.0
    base = clip_probs(model, pixels)
    target = int(base.argmax())
    drops = [base[target] - clip_probs(model, occlude_by_hand(pixels, p, window, fill))[target]
             for p in range(0, len(clip) - window + 1, stride)]
    return target, float(base[target]), np.array(drops)


@pytest.mark.parametrize("kind", ["clip_model", "image_model"])
@pytest.mark.parametrize("fill", FILLS)
def test_equals_the_brute_force_loop(request, clip, kind, fill):
    model = request.getfixturevalue(kind)
    for window, stride in ((2, 1), (3, 2)):
        result = temporal_occlusion(model, clip, window=window, stride=stride, fill=fill,
                                    batch_size=2)
        target, base, drops = brute_force(model, clip, window, stride, fill)
        assert result.target == target and result.label == model.label(target)
        assert result.base_prob == pytest.approx(base, abs=1e-6)
        assert result.positions.tolist() == list(range(0, FRAMES - window + 1, stride))
        assert result.done == result.total == len(drops)
        np.testing.assert_allclose(result.drops, drops, atol=2e-6)
        np.testing.assert_allclose(result.occluded_probs, base - drops, atol=2e-6)
        assert np.abs(drops).max() > 1e-3  # the test can tell a wrong fill apart


def test_per_frame_is_the_mean_drop_of_the_covering_windows(clip_model, clip):
    result = temporal_occlusion(clip_model, clip, window=3, stride=2, fill="grey")
    assert result.positions.tolist() == [0, 2, 4]
    for frame in range(FRAMES):
        covering = [d for p, d in zip(result.positions, result.drops, strict=True)
                    if p <= frame < p + 3]
        expected = np.mean(covering) if covering else np.nan
        np.testing.assert_allclose(result.per_frame[frame], expected, atol=1e-7)
    assert np.isnan(result.per_frame[7])  # no window of 3 at stride 2 reaches the last frame


def test_image_model_runs_each_distinct_frame_once(image_model, clip):
    rows = []
    hook = image_model.module.net.register_forward_hook(lambda _m, x, _o: rows.append(len(x[0])))
    try:
        mean = temporal_occlusion(image_model, clip, window=2, fill="mean")
        seen = sum(rows)
        rows.clear()
        freeze = temporal_occlusion(image_model, clip, window=2, fill="freeze")
    finally:
        hook.remove()
    assert seen == FRAMES - 1 + 1  # seven distinct frames and the mean frame
    assert sum(rows) == FRAMES - 1  # a frozen frame is one of the clip's
    assert mean.extras["forwards"] == seen and freeze.extras["mode"] == "per-frame mean"


def test_float_frames_equal_uint8_and_a_target_can_be_chosen(clip_model, clip):
    as_bytes = temporal_occlusion(clip_model, clip, target=3, window=2)
    as_float = temporal_occlusion(clip_model, clip.astype(np.float32) / 255, target=3, window=2)
    assert as_bytes.target == 3
    np.testing.assert_allclose(as_bytes.drops, as_float.drops, atol=1e-6)


def test_cancelled_sweep_keeps_the_finished_windows(clip_model, clip):
    partials, progress = [], []

    def keep(result):
        partials.append(result)
        ctx.cancel()

    ctx = PlainContext(on_progress=lambda f, _m: progress.append(f), on_partial=keep)
    with pytest.raises(Cancelled):
        temporal_occlusion(clip_model, clip, window=2, batch_size=2, ctx=ctx)
    last = partials[-1]
    assert len(partials) == 1 and last.done == 2 and progress == [pytest.approx(2 / 7)]
    assert np.isfinite(last.drops[:2]).all() and np.isnan(last.drops[2:]).all()
    assert np.isnan(last.occluded_probs[2:]).all()
    assert np.isfinite(last.per_frame[:3]).all() and np.isnan(last.per_frame[3:]).all()


def test_partials_grow_and_end_complete(clip_model, clip):
    partials = []
    ctx = PlainContext(on_partial=partials.append)
    result = temporal_occlusion(clip_model, clip, window=2, batch_size=3, ctx=ctx)
    assert [p.done for p in partials] == [3, 6, 7]
    assert np.isnan(partials[0].drops[3:]).all()
    np.testing.assert_array_equal(partials[-1].drops, result.drops)


def test_spatiotemporal_cube_equals_hiding_boxes_by_hand(clip_model, clip):
    cube = spatiotemporal_occlusion(clip_model, clip, window=4, patch=8, stride=4,
                                    fill="grey", batch_size=3)
    assert cube.drops.shape == (2, 2, 2) and cube.done == 8
    x = clips_to_input(clip_model, clip)
    with torch.inference_mode():
        base = torch.softmax(clip_model.module(x), 1)[0, cube.target]
        for k, i, j in np.ndindex(cube.drops.shape):
            hidden = x.clone()
            hidden[:, :, 4 * k:4 * k + 4, 8 * i:8 * i + 8, 8 * j:8 * j + 8] = 0.5
            prob = torch.softmax(clip_model.module(hidden), 1)[0, cube.target]
            assert cube.drops[k, i, j] == pytest.approx(float(base - prob), abs=2e-6)
    whole = spatiotemporal_occlusion(clip_model, clip, window=2, patch=SIZE, fill="freeze")
    frames = temporal_occlusion(clip_model, clip, window=2, fill="freeze")
    np.testing.assert_allclose(whole.drops[:, 0, 0], frames.drops, atol=1e-6)


def test_spatiotemporal_bad_parameters(clip_model, image_model, clip):
    with pytest.raises(InputError, match="clip model"):
        spatiotemporal_occlusion(image_model, clip)
    with pytest.raises(InputError, match="patch"):
        spatiotemporal_occlusion(clip_model, clip, patch=0)
    with pytest.raises(InputError, match="larger than"):
        spatiotemporal_occlusion(clip_model, clip, patch=SIZE + 1)


@pytest.mark.parametrize("kwargs, message", [
    ({"window": 0}, "at least 1 frame"), ({"window": 9}, "longer than the 8-frame clip"),
    ({"stride": 0}, "stride must be at least 1"), ({"fill": "blur"}, "unknown fill 'blur'"),
    ({"target": 5}, "outside 0 … 4"), ({"batch_size": -1}, "batch size")])
def test_bad_parameters(clip_model, clip, kwargs, message):
    with pytest.raises(InputError, match=message):
        temporal_occlusion(clip_model, clip, **kwargs)


@pytest.mark.parametrize("frames, message", [
    (np.zeros((0, 16, 16, 3), np.uint8), "empty"),
    (np.full((4, 16, 16, 3), np.nan, np.float32), "NaN"),
    (np.zeros((4, 16, 16), np.uint8), r"\(T, H, W, 3\)"),
    (np.full((4, 16, 16, 3), 200.0, np.float32), r"\[0, 1\]")])
def test_bad_clips(image_model, frames, message):
    with pytest.raises(InputError, match=message):
        temporal_occlusion(image_model, frames, window=1)
