"""Occlusion: the batched sweep against a plain loop, painted masks, fills, and the cat."""

import numpy as np
import pytest
import torch
from torch import nn

from workbench.core.models.registry import wrap_model
from workbench.core.occlusion import (
    OcclusionParams,
    apply_fill,
    occlusion_map,
    parse_fill,
    predict_masked,
)
from workbench.core.occlusion.sliding import grid_rect, tiles
from workbench.core.preprocess import to_pixels
from workbench.errors import InputError


def small_model():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 8, 3, stride=2),
                        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))
    prep = {"mean": (0.5,) * 3, "std": (0.25,) * 3, "input_size": (18, 18)}
    return wrap_model(net, prep, list("abcde"), "small", "test", "image", torch.device("cpu"))


def plain_loop(model, x, fill_value, window, stride, target):
    size = x.shape[-1]
    rows = (size - window) // stride + 1
    grid = np.zeros((rows, rows), np.float32)
    for i in range(rows):
        for j in range(rows):
            occluded = x.clone()
            occluded[..., i * stride : i * stride + window, j * stride : j * stride + window] = (
                fill_value)
            with torch.no_grad():
                grid[i, j] = torch.softmax(model.module(occluded), 1)[0, target]
    return grid


@pytest.mark.parametrize("batch", [1, 5, 64])
@pytest.mark.parametrize("window,stride", [(4, 3), (5, 5), (18, 1)])
def test_sweep_equals_a_plain_loop(batch, window, stride):
    model = small_model()
    x = torch.rand(1, 3, 18, 18, generator=torch.Generator().manual_seed(1))
    result = occlusion_map(model, x, 0.3, target=2,
                           params=OcclusionParams(window=window, stride=stride,
                                                  batch_size=batch))
    expected = plain_loop(model, x, 0.3, window, stride, 2)
    np.testing.assert_allclose(result.target_prob, expected, rtol=1e-5, atol=1e-6)
    assert result.done == expected.size
    with torch.no_grad():
        base = torch.softmax(model.module(x), 1)[0].numpy()
    np.testing.assert_allclose(result.base_probs, base, rtol=1e-5)
    assert (result.top_class >= 0).all()


def test_partial_results_arrive_batch_by_batch():
    from workbench.core.jobs import JobContext

    seen = []
    ctx = JobContext(on_partial=lambda r: seen.append(r.done))
    model = small_model()
    occlusion_map(model, torch.rand(1, 3, 18, 18), "mean", ctx=ctx,
                  params=OcclusionParams(window=4, stride=2, batch_size=16))
    assert seen == [16, 32, 48, 64]


def test_mean_fill_uses_the_image_mean():
    image = torch.rand(3, 8, 8)
    masks = torch.zeros(1, 1, 8, 8)
    masks[..., :4, :4] = 1
    out = apply_fill(image, masks, "mean")[0]
    torch.testing.assert_close(out[:, 0, 0], image.mean(dim=(1, 2)))
    torch.testing.assert_close(out[:, 5:, 5:], image[:, 5:, 5:])


@pytest.mark.parametrize("fill", ["grey", "mean", "blur", "noise", "black", "inpaint", 0.25])
def test_every_fill_only_changes_the_mask(fill):
    image = torch.rand(3, 32, 32)
    masks = torch.zeros(2, 1, 32, 32)
    masks[0, :, 8:20, 8:20] = 1
    out = apply_fill(image, masks, fill)
    assert out.shape == (2, 3, 32, 32) and torch.isfinite(out).all()
    torch.testing.assert_close(out[1], image)
    torch.testing.assert_close(out[0, :, :8], image[:, :8])
    assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0


def test_parse_fill():
    assert parse_fill("0.5") == 0.5 and parse_fill("Mean") == "mean" and parse_fill(0) == 0.0
    with pytest.raises(InputError, match="grey level"):
        parse_fill("purple")
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        parse_fill("2")


def test_window_larger_than_input():
    with pytest.raises(InputError, match="larger than"):
        occlusion_map(small_model(), torch.rand(1, 3, 18, 18), params=OcclusionParams(window=40))


def test_each_window_is_drawn_centred_where_it_was_applied():
    """Window 48 / stride 8 at 224 px: window (0, 0) covers pixels 0–48, so its tile is
    centred at 24 (not stretched over the image); tiles of neighbours touch."""
    rows = (224 - 48) // 8 + 1
    assert grid_rect((rows, rows), 48, 8) == (20.0, 20.0, rows * 8, rows * 8)
    values = np.arange(rows * rows, dtype=np.float32).reshape(rows, rows)
    out = tiles(values, 48, 8, (224, 224))
    for i, j in ((0, 0), (3, 7), (rows - 1, rows - 1)):
        centre = (i * 8 + 24, j * 8 + 24)
        assert out[centre] == values[i, j]
        assert out[i * 8 + 20, j * 8 + 20] == values[i, j]  # the tile's first pixel
        assert out[i * 8 + 27, j * 8 + 27] == values[i, j]  # and its last
    assert np.isnan(out[:20]).all() and np.isnan(out[:, 204:]).all()  # no window there


def test_uncomputed_windows_stay_transparent():
    values = np.array([[1.0, np.nan]], dtype=np.float32)
    out = tiles(values, window=4, stride=2, size=(4, 7))
    np.testing.assert_allclose(out[1, 1:3], [1, 1])
    assert np.isnan(out[1, 3:5]).all()


def test_empty_mask_changes_nothing():
    model = small_model()
    x = torch.rand(1, 3, 18, 18)
    result = predict_masked(model, x, np.zeros((18, 18), bool))
    np.testing.assert_allclose(result.probs, result.base_probs, rtol=1e-6)
    assert all(abs(row["delta"]) < 1e-6 for row in result.rows())


def test_mask_is_resized_to_the_model_input():
    model = small_model()
    mask = np.ones((36, 36), bool)
    result = predict_masked(model, torch.rand(1, 3, 18, 18), mask, fill=0.0)
    assert np.allclose(result.masked_image, 0.0)


def test_hiding_the_cat_matters_more_than_hiding_background(lite0, sample_image):
    canvas = torch.full((1, 3, 224, 224), 0.5)
    canvas[..., 64:160, 8:104] = to_pixels(sample_image("chelsea"), (96, 96))
    cat = lite0.labels.index("Egyptian cat")
    head = np.zeros((224, 224), bool)
    head[64:160, 8:104] = True
    background = np.zeros((224, 224), bool)
    background[64:160, 120:216] = True
    hidden_head = predict_masked(lite0, canvas, head, fill="grey")
    hidden_background = predict_masked(lite0, canvas, background, fill="grey")
    assert hidden_head.base_probs.argmax() == cat
    drop_head = -hidden_head.delta(cat)
    drop_background = -hidden_background.delta(cat)
    assert drop_head > 0.3 and drop_head > 10 * abs(drop_background)
