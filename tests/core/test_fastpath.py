"""The compiled fast path (issue 20): compiled equals eager on forward-only jobs, one graph
for a sweep's many batch sizes, and a clear eager fallback."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
import torch
from torch import nn

from workbench.core import fastpath
from workbench.core.models.registry import wrap_model

RTOL = 1e-4


def tiny_resnet():
    """A random one-block-per-stage ResNet at 32×32 (compiles in seconds)."""
    from torchvision.models.resnet import BasicBlock, ResNet

    torch.manual_seed(0)
    net = ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10)
    prep = {"input_size": (32, 32), "mean": (0.45,) * 3, "std": (0.25,) * 3}
    return wrap_model(net, prep, [str(i) for i in range(10)], "tiny_resnet", "test", "image",
                      torch.device("cpu"))


@pytest.fixture(scope="module", params=["digits_lenet", "tiny_resnet"])
def model(request):
    from workbench.core.models import load_model

    loaded = tiny_resnet() if request.param == "tiny_resnet" else load_model(request.param)
    assert fastpath.prepare(loaded) == "ready", loaded.extras["fastpath"]
    return loaded


def close(a, b):
    a, b = torch.as_tensor(np.asarray(a)), torch.as_tensor(np.asarray(b))
    scale = b.abs().max().clamp_min(1e-12)
    return bool(((a - b).abs().max() / scale) <= RTOL)


@pytest.fixture
def calls(monkeypatch):
    """How many forwards went through the compiled copy."""
    seen = []
    run = fastpath._run
    monkeypatch.setattr(fastpath, "_run", lambda entry, x: seen.append(len(x)) or run(entry, x))
    return seen


def pixels(model, n=1, seed=0):
    return torch.rand(n, 3, *model.input_size, generator=torch.Generator().manual_seed(seed))


def test_cache_lives_in_workbench_cache(model):
    folder = fastpath.inductor_cache_dir()
    assert os.environ["TORCHINDUCTOR_CACHE_DIR"] == str(folder)
    assert str(folder).startswith(os.environ["WORKBENCH_CACHE_DIR"]) and any(folder.iterdir())


def test_predict_equals_eager(model, calls):
    from workbench.core.predict import predict_pixels

    x = pixels(model)
    fast = predict_pixels(model, x)
    assert calls == [1]
    with fastpath.eager(model):
        slow = predict_pixels(model, x)
    assert close(fast.probs, slow.probs) and [c.index for c in fast.top] == [
        c.index for c in slow.top]


def test_sweep_equals_eager_without_recompiling(model, calls):
    from torch._dynamo.utils import counters

    from workbench.core.occlusion import OcclusionParams, occlusion_map

    x = pixels(model, seed=1)
    graphs = counters["stats"]["unique_graphs"]
    results = {}
    for size in (0, 3, 7, 64):  # 0: the adaptive batcher's 1, 2, 4, … and the remainder
        params = OcclusionParams(window=8, stride=2, batch_size=size)
        results[size] = occlusion_map(model, x, 0.5, params=params)
    assert counters["stats"]["unique_graphs"] == graphs  # no compilation after prepare
    assert len(set(calls)) >= 4
    with fastpath.eager(model):
        slow = occlusion_map(model, x, 0.5, params=OcclusionParams(window=8, stride=2))
    for fast in results.values():
        assert close(fast.target_prob, slow.target_prob)
        assert close(fast.base_probs, slow.base_probs)


def test_paint_scorecam_and_faithfulness_equal_eager(model, calls):
    from workbench.core.attribution import attribute, faithfulness
    from workbench.core.occlusion.paint import predict_masked

    x = pixels(model, seed=2)
    mask = np.zeros(model.input_size, bool)
    mask[4:20, 6:18] = True

    saliency = torch.rand(model.input_size, generator=torch.Generator().manual_seed(3))

    def run():  # one map for both curves: near-equal CAM values could rank pixels apart
        cam = attribute(model, x, "scorecam", params={"max_channels": 6, "batch_size": 4})
        score = faithfulness(model, x, saliency, cam.targets[0])
        return predict_masked(model, x, mask), cam, score

    painted, cam, score = run()
    assert calls
    with fastpath.eager(model):
        painted_e, cam_e, score_e = run()
    assert close(painted.probs, painted_e.probs)
    assert close(cam.maps, cam_e.maps)
    assert close(score.deletion, score_e.deletion) and close(score.insertion, score_e.insertion)


def test_eager_hooks_still_fire(model):
    layer = model.layers[0].name
    seen = []
    handle = model.layer_module(layer).register_forward_hook(lambda *_: seen.append(1))
    try:
        x = pixels(model, 3)
        with torch.inference_mode():
            fast = fastpath.forward(model, x)
            assert not seen  # the compiled copy is separate
            assert close(fast, model.module(x)) and seen == [1]
    finally:
        handle.remove()


class Branchy(nn.Module):
    """Data-dependent Python control flow: cannot be one graph."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3 * 8 * 8, 4)

    def forward(self, x):
        x = x.flatten(1)
        if x.mean() > 0:  # noqa: SIM108 - a branch on a value is the point
            x = x * 2
        return self.fc(x)


class Noisy(Branchy):
    """Compiles, but its random noise differs from eager's: must fail the check."""

    def forward(self, x):
        return self.fc(x.flatten(1)) + torch.randn(x.shape[0], 4)


def small(net, name="small"):
    prep = {"input_size": (8, 8), "mean": (0.5,) * 3, "std": (0.5,) * 3}
    return wrap_model(net, prep, list("abcd"), name, "test", "image", torch.device("cpu"))


@pytest.mark.parametrize("net, words", [(Branchy(), "compilation failed"),
                                        (Noisy(), "differ from eager")])
def test_failing_model_runs_eagerly_with_one_line_reason(net, words, calls):
    loaded = small(net)
    state = fastpath.prepare(loaded)
    assert state.startswith("eager: ") and words in state and "\n" not in state
    assert loaded.extras["fastpath"] == state and not fastpath.is_ready(loaded)
    x = torch.rand(2, 3, 8, 8)
    with torch.inference_mode():
        assert torch.equal(fastpath.forward(loaded, x), loaded.module(x)) or isinstance(
            net, Noisy)
    assert calls == []


def test_off_by_env_dense_refused_and_default_eager(monkeypatch, calls):
    loaded = small(nn.Sequential(nn.Flatten(), nn.Linear(192, 4)))
    assert fastpath.state(loaded) == "eager"  # never prepared: everything runs eagerly
    with torch.inference_mode():
        fastpath.forward(loaded, torch.rand(2, 3, 8, 8))
    monkeypatch.setenv("WORKBENCH_COMPILE", "0")
    assert fastpath.prepare(loaded) == "off"
    monkeypatch.delenv("WORKBENCH_COMPILE")
    dense = dataclasses.replace(loaded, task="detection", extras={})
    state = fastpath.prepare(dense)
    assert state.startswith("eager: detection") and not fastpath.is_ready(dense)
    assert calls == []
