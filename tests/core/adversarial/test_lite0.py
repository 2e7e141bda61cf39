"""Attacks and a patch on the real EfficientNet-Lite0 and bundled photos."""

import pytest
import torch

from workbench.core.adversarial import attack, epsilon_sweep, quantize_8bit
from workbench.core.adversarial.patch import patch_effect, train_patch
from workbench.core.preprocess import model_input

TRAIN = ("chelsea", "coffee", "astronaut", "rocket")
HELD_OUT = ("china", "flower")


def top1(model, x):
    with torch.inference_mode():
        return model.module(x).argmax(1)


def test_pgd_at_4_grey_levels_fools_lite0_even_after_8_bit_rounding(lite0, sample_image):
    x = model_input(lite0, sample_image("chelsea"))
    assert lite0.label(int(top1(lite0, x))) == "Egyptian cat"
    eps = 4 / 255
    result = attack(lite0, x, "pgd", params={"eps": eps, "step_size": 1 / 255, "steps": 12})
    assert result.success.all() and result.linf[0] <= eps + 1e-6
    assert int(result.top1_after) != int(result.top1_before)
    rounded = quantize_8bit(result.adversarial)
    assert (rounded - x).abs().max() <= eps + 0.5 / 255 + 1e-6
    assert int(top1(lite0, rounded)) != int(result.top1_before)
    assert result.probs_after.max() > 0.5  # a confident mistake, not a coin flip


def test_targeted_pgd_and_a_sweep_on_lite0(lite0, sample_image):
    x = model_input(lite0, sample_image("coffee"))
    toaster = lite0.labels.index("toaster")
    result = attack(lite0, x, "pgd", target=toaster,
                    params={"eps": 4 / 255, "step_size": 1 / 255, "steps": 8})
    assert int(result.top1_after) == toaster
    sweep = epsilon_sweep(lite0, x, "fgsm", [0.0, 1 / 255, 4 / 255])
    assert sweep.true_prob[0] > sweep.true_prob[1] and sweep.true_prob[0] > sweep.true_prob[2]


@pytest.mark.slow
def test_a_briefly_trained_patch_transfers_to_unseen_photos(lite0, sample_image):
    toaster = lite0.labels.index("toaster")
    images = [model_input(lite0, sample_image(name)) for name in TRAIN]
    params = {"size": 80, "steps": 60, "lr": 0.05, "batch_size": 4, "seed": 0}
    result = train_patch(lite0, images, toaster, params)
    held_out = torch.cat([model_input(lite0, sample_image(name)) for name in HELD_OUT])
    with torch.inference_mode():
        clean = torch.softmax(lite0.module(held_out), 1)[:, toaster]
    noise = torch.rand(3, 80, 80, generator=torch.Generator().manual_seed(5))
    with_noise = patch_effect(lite0, held_out, noise, result.mask, toaster)
    with_patch = patch_effect(lite0, held_out, result.patch, result.mask, toaster)
    assert (with_patch > 5 * clean).all(), (clean, with_patch)
    assert (with_patch > 5 * with_noise).all(), (with_noise, with_patch)
