"""Adversarial patch: pasting geometry, masks, training loop contract (tiny model)."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from tests.core.adversarial.nets import pixels, tiny_model
from tests.helpers import CancelAfter
from workbench.core.adversarial.patch import (
    PatchParams,
    apply_patch,
    patch_effect,
    patch_mask,
    train_patch,
)
from workbench.core.jobs import PlainContext
from workbench.errors import Cancelled, InputError


@pytest.fixture(scope="module")
def model():
    return tiny_model(size=32)


def test_paste_at_an_integer_position_copies_the_patch_exactly():
    x = torch.rand(2, 3, 32, 40)
    patch = torch.rand(3, 8, 8)
    out = apply_patch(x, patch, position=(5, 7))
    expected = x.clone()
    expected[:, :, 7:15, 5:13] = patch
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)
    centred = apply_patch(x, patch, position=(9, 11), anchor="centre")
    torch.testing.assert_close(centred, expected, rtol=0, atol=1e-5)


def test_rotation_is_counter_clockwise_and_scale_resizes():
    x = torch.rand(1, 3, 32, 32)
    patch = torch.rand(3, 8, 8)
    out = apply_patch(x, patch, position=(5, 7), angle=90)
    expected = x.clone()
    expected[:, :, 7:15, 5:13] = torch.rot90(patch, 1, dims=(1, 2))
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)
    big = apply_patch(x, patch, position=(4, 6), scale=2.0)
    upsampled = F.interpolate(patch[None], scale_factor=2, mode="bilinear", align_corners=False)
    torch.testing.assert_close(big[0, :, 7:21, 5:19], upsampled[0, :, 1:15, 1:15], rtol=0,
                               atol=1e-5)


def test_round_mask_keeps_the_corners_of_the_image():
    x = torch.zeros(1, 3, 16, 16)
    mask = patch_mask(16, "circle")
    out = apply_patch(x, torch.ones(3, 16, 16), mask, position=(0, 0))
    assert out[0, :, 0, 0].max() == 0.0 and out[0, :, 8, 8].min() == 1.0
    assert mask.shape == (1, 16, 16) and patch_mask(4, "square").min() == 1.0
    area = float(mask.sum())
    assert area == pytest.approx(np.pi * 8**2, rel=0.02)
    with pytest.raises(InputError, match="shape must be"):
        patch_mask(8, "star")


def test_paste_is_differentiable_with_respect_to_the_patch():
    patch = torch.rand(3, 6, 6, requires_grad=True)
    out = apply_patch(torch.rand(2, 3, 20, 20), patch, patch_mask(6), angle=30, scale=1.3)
    (grad,) = torch.autograd.grad(out.sum(), patch)
    assert grad.abs().sum() > 0


def test_training_sends_previews_and_progress_and_stays_in_range(model):
    previews, progress = [], []
    ctx = PlainContext(on_progress=lambda f, m: progress.append(f), on_partial=previews.append)
    images = [pixels(1, seed=s, size=32) for s in range(3)]
    result = train_patch(model, images, target=3, params={"size": 10, "steps": 6,
                                                          "batch_size": 4, "preview_every": 2},
                         ctx=ctx)
    assert result.patch.shape == (3, 10, 10) and result.mask.shape == (1, 10, 10)
    assert result.patch.min() >= 0 and result.patch.max() <= 1 and not result.patch.requires_grad
    assert [p.step for p in previews] == [2, 4, 6]
    assert previews[-1].patch.shape == (10, 10, 3) and previews[-1].mask.shape == (10, 10)
    assert progress[-1] == 1.0 and len(result.history) == 6
    assert not any(p.requires_grad for p in model.module.parameters())


def test_training_raises_the_target_on_the_training_images(model):
    images = pixels(4, seed=3, size=32)
    result = train_patch(model, images, target=1,
                         params={"size": 14, "steps": 40, "lr": 0.1, "batch_size": 8})
    noise = torch.rand(3, 14, 14, generator=torch.Generator().manual_seed(9))
    trained = patch_effect(model, images, result.patch, result.mask, 1).mean()
    random = patch_effect(model, images, noise, result.mask, 1).mean()
    assert trained > random


def test_cancel_and_bad_inputs(model):
    images = pixels(2, size=32)
    with pytest.raises(Cancelled):
        train_patch(model, images, 0, {"size": 8, "steps": 5}, ctx=CancelAfter(2))
    assert not any(p.requires_grad for p in model.module.parameters())
    with pytest.raises(InputError, match="larger than"):
        train_patch(model, images, 0, {"size": 40})
    with pytest.raises(InputError, match="outside 0"):
        train_patch(model, images, 7, {"size": 8})
    with pytest.raises(InputError, match="shape \\(3, 32, 32\\)"):
        train_patch(model, pixels(1, size=16), 0, {"size": 8})
    with pytest.raises(InputError, match="at least one image"):
        train_patch(model, [], 0)
    with pytest.raises(InputError, match="starting patch"):
        train_patch(model, images, 0, {"size": 8}, init=torch.rand(3, 9, 9))
    with torch.inference_mode():
        assert train_patch(model, images, 0, {"size": 8, "steps": 1}).patch.shape == (3, 8, 8)
    with pytest.raises(InputError, match="min_scale"):
        train_patch(model, images, 0, PatchParams(size=8, min_scale=2.0, max_scale=1.0))
