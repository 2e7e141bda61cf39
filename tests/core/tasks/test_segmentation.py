"""The segmentation map at the original picture's size: the channels-last upsampling gives
exactly the class map of the plain bilinear upsampling, and shares add up."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from tests.core.tasks.toys import toy_segmenter
from workbench.core.tasks.segmentation import segment, upsampled_argmax


@pytest.mark.parametrize("size", [(40, 56), (7, 9), (3, 5), (16, 16)])
def test_upsampled_argmax_equals_the_plain_upsampling(size):
    logits = torch.randn(2, 11, 16, 16, generator=torch.Generator().manual_seed(0))
    plain = F.interpolate(logits, size=size, mode="bilinear", align_corners=False).argmax(1)
    assert torch.equal(upsampled_argmax(logits, size), plain)


def test_segment_maps_and_shares():
    model = toy_segmenter()
    image = np.random.default_rng(0).random((50, 70, 3)).astype(np.float32)
    result = segment(model, image)
    assert result.class_map.shape == model.input_size and result.original_map.shape == (50, 70)
    assert sum(result.shares().values()) == pytest.approx(1.0)
