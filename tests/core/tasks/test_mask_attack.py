"""The targeted segmentation attack (Metzen et al. 2017): it moves the segmentation toward
the target mask within the L∞ budget, reports agreement honestly, and refuses bad masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.core.tasks.toys import SIZE, toy_detector, toy_segmenter
from workbench.core.adversarial.segmentation_mask import IGNORE, mask_attack
from workbench.errors import InputError


def test_the_segmentation_moves_toward_the_target_within_budget():
    model = toy_segmenter()
    x = torch.rand(1, 3, *SIZE, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        before = model.module(x)[0].argmax(0).numpy()
    target = np.roll(before, 12, axis=1)  # the same map, shifted right
    target[:, :4] = IGNORE
    result = mask_attack(model, x, target, {"eps": 16 / 255, "step_size": 2 / 255,
                                            "steps": 30})
    assert result.linf <= 16 / 255 + 1e-6
    assert result.agreement_after > result.agreement_before + 0.1
    counted = target != IGNORE
    assert result.agreement_after == pytest.approx(
        float((result.after[counted] == target[counted]).mean()))
    assert len(result.history) == result.steps <= 30


def test_a_mask_of_another_size_is_resized_and_bad_masks_are_refused():
    model = toy_segmenter()
    x = torch.rand(1, 3, *SIZE)
    small = np.zeros((8, 12), dtype=np.int64)
    result = mask_attack(model, x, small, {"steps": 2})
    assert result.target.shape == SIZE
    with pytest.raises(InputError, match="outside"):
        mask_attack(model, x, np.full(SIZE, 5), {"steps": 1})
    with pytest.raises(InputError, match="ignores every pixel"):
        mask_attack(model, x, np.full(SIZE, IGNORE), {"steps": 1})
    with pytest.raises(InputError, match="not a segmenter"):
        mask_attack(toy_detector(), x, small, {"steps": 1})
