"""Compiled equals eager for the built-in ImageNet model and random-weight torchvision
families (issue 20): predict, an occlusion sweep over several batch sizes and the
embeddings' features.  Each model compiles for tens of seconds, so they run with
``WORKBENCH_SLOW_TESTS=1``."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from workbench.core import fastpath

MODELS = ["efficientnet_lite0", "resnet18:random", "mobilenet_v3_small:random",
          "efficientnet_b0:random", "convnext_tiny:random", "regnet_y_400mf:random",
          "densenet121:random", "shufflenet_v2_x0_5:random", "swin_t:random", "vit_b_16:random"]
SIZE = (96, 96)  # random-weight models at a small size run faster (ViT and Swin keep 224)
FIXED_SIZE = ("vit_b_16:random", "swin_t:random")

pytestmark = pytest.mark.slow  # ten models, tens of seconds each


def close(a, b, rtol=1e-4) -> bool:
    a, b = torch.as_tensor(np.asarray(a)), torch.as_tensor(np.asarray(b))
    return bool((a - b).abs().max() <= rtol * b.abs().max().clamp_min(1e-12))


@pytest.mark.parametrize("spec", MODELS)
def test_compiled_equals_eager(spec):
    from workbench.core.embedding.features import default_layer, forward_features, record_layer
    from workbench.core.models import load_model
    from workbench.core.occlusion import OcclusionParams, occlusion_map
    from workbench.core.predict import predict_pixels

    model = load_model(spec)
    if spec.endswith(":random") and spec not in FIXED_SIZE:
        model = dataclasses.replace(model, input_size=SIZE)
    state = fastpath.prepare(model, enabled=True)
    assert state == "ready", state
    x = torch.rand(1, 3, *model.input_size, generator=torch.Generator().manual_seed(0))
    window = model.input_size[0] // 4
    params = OcclusionParams(window=window, stride=window, batch_size=5)

    def run():
        layer = default_layer(model)
        with record_layer(model, layer) as recorder:
            feats = forward_features(model, recorder, x.expand(3, -1, -1, -1).contiguous())
        sweep = occlusion_map(model, x, 0.5, params=params)
        return predict_pixels(model, x).probs, sweep.target_prob, feats

    fast = run()
    with fastpath.eager(model):
        slow = run()
    for a, b in zip(fast, slow, strict=True):
        assert close(a, b)
