"""The compiled fast path (issue 20): a package built once (AOTInductor, dynamic batch) and
loaded from disk, equal to eager on every forward-only job, and a clear eager fallback."""

from __future__ import annotations

import dataclasses
import json
import pickle
import subprocess

import numpy as np
import pytest
import torch
from torch import nn

from workbench.core import fastpath
from workbench.core.fastpath import build, helper, runtime, store
from workbench.core.models.registry import wrap_model

RTOL = 1e-4


def tiny_resnet():
    """A random one-block-per-stage ResNet at 32×32."""
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
    assert fastpath.prepare(loaded, enabled=True) == "ready", loaded.extras["fastpath"]
    return loaded


def close(a, b):
    a, b = torch.as_tensor(np.asarray(a)), torch.as_tensor(np.asarray(b))
    scale = b.abs().max().clamp_min(1e-12)
    return bool(((a - b).abs().max() / scale) <= RTOL)


@pytest.fixture
def calls(monkeypatch):
    """How many forwards went through the compiled copy."""
    seen = []
    run = runtime._run
    monkeypatch.setattr(runtime, "_run", lambda entry, x: seen.append(len(x)) or run(entry, x))
    return seen


def pixels(model, n=1, seed=0):
    return torch.rand(n, 3, *model.input_size, generator=torch.Generator().manual_seed(seed))


def test_package_lives_in_workbench_cache_and_loads_without_compiling(model, monkeypatch):
    plan = fastpath.details(model).plan
    assert store.package_path(plan).is_file() and store.package_path(plan).is_relative_to(
        fastpath.cache_dir())
    record = json.loads(store.record_path(plan).read_text())
    assert record["state"] == "ready" and record["weights"] == "outside"  # shared, not copied
    monkeypatch.setattr(runtime, "build", lambda *_a, **_k: pytest.fail("compiled again"))
    assert fastpath.prepare(model, enabled=True) == "ready"  # from disk, checked again
    assert fastpath.details(model).facts["logit_diff"] <= RTOL


def test_predict_equals_eager(model, calls):
    from workbench.core.predict import predict_pixels

    x = pixels(model)
    fast = predict_pixels(model, x)
    assert calls == [1]
    with fastpath.eager(model):
        slow = predict_pixels(model, x)
    assert close(fast.probs, slow.probs) and [c.index for c in fast.top] == [
        c.index for c in slow.top]


def test_sweep_equals_eager_at_every_batch_size(model, calls):
    from workbench.core.occlusion import OcclusionParams, occlusion_map

    x = pixels(model, seed=1)
    results = {}
    for size in (0, 3, 7, 64):  # 0: the adaptive batcher's 1, 2, 4, … and the remainder
        params = OcclusionParams(window=8, stride=2, batch_size=size)
        results[size] = occlusion_map(model, x, 0.5, params=params)
    assert len(set(calls)) >= 4  # one package for every batch size
    with fastpath.eager(model):
        slow = occlusion_map(model, x, 0.5, params=OcclusionParams(window=8, stride=2))
    for fast in results.values():
        assert close(fast.target_prob, slow.target_prob)
        assert close(fast.base_probs, slow.base_probs)


def test_features_and_attack_evaluation_equal_eager(model, calls):
    from workbench.core.adversarial import epsilon_sweep
    from workbench.core.adversarial.patch import patch_effect
    from workbench.core.embedding.datasets import arrays_dataset
    from workbench.core.embedding.features import default_layer, extract_features

    rng = np.random.default_rng(0)
    images = [(f"{i}.png", rng.integers(0, 255, (40, 40, 3), dtype=np.uint8))
              for i in range(9)]
    layer = default_layer(model)
    assert fastpath.details(model).plan.feature_layer == layer

    def run():
        feats = extract_features(model, arrays_dataset(images), layer, workers=0)
        sweep = epsilon_sweep(model, pixels(model, seed=4), "fgsm", [0.0, 0.05, 0.2])
        patch = torch.rand(3, 8, 8, generator=torch.Generator().manual_seed(5))
        effect = patch_effect(model, pixels(model, 3, seed=6), patch, torch.ones(1, 8, 8), 1)
        return feats.features, sweep.true_prob, effect

    fast = run()
    assert calls
    with fastpath.eager(model):
        slow = run()
    for a, b in zip(fast, slow, strict=True):
        assert close(a, b)


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
def test_failing_model_runs_eagerly_with_one_line_reason(net, words, calls, monkeypatch):
    loaded = small(net)
    state = fastpath.prepare(loaded, enabled=True)
    assert state.startswith("eager: ") and words in state and "\n" not in state
    assert loaded.extras["fastpath"] == state and not fastpath.is_ready(loaded)
    x = torch.rand(2, 3, 8, 8)
    with torch.inference_mode():
        assert torch.equal(fastpath.forward(loaded, x), loaded.module(x)) or isinstance(
            net, Noisy)
    assert calls == []
    monkeypatch.setattr(runtime, "build", lambda *_a, **_k: pytest.fail("tried again"))
    assert fastpath.prepare(loaded, enabled=True) == state  # remembered, not retried


def test_off_refused_and_default_eager(monkeypatch, calls):
    loaded = small(nn.Sequential(nn.Flatten(), nn.Linear(192, 4)))
    assert fastpath.state(loaded) == "eager"  # never prepared: everything runs eagerly
    with torch.inference_mode():
        fastpath.forward(loaded, torch.rand(2, 3, 8, 8))
    monkeypatch.setenv("WORKBENCH_COMPILE", "0")
    assert fastpath.prepare(loaded) == "off"
    monkeypatch.setenv("WORKBENCH_COMPILE", "1")
    assert fastpath.prepare(loaded, precision="tf32") == "eager: TF32 exists only on CUDA"
    assert "unknown precision" in fastpath.prepare(loaded, precision="fp8")
    assert fastpath.prepare(loaded, build_missing=False) == fastpath.NOT_BUILT
    dense = dataclasses.replace(loaded, task="detection", extras={})
    state = fastpath.prepare(dense)
    assert state.startswith("eager: detection") and not fastpath.is_ready(dense)
    assert calls == []


def test_bfloat16_is_measured_not_refused(calls):
    loaded = small(nn.Sequential(nn.Flatten(), nn.Linear(192, 16), nn.ReLU(),
                                 nn.Linear(16, 4)), "bf16")
    assert fastpath.prepare(loaded, enabled=True, precision="bfloat16") == "ready"
    facts = fastpath.details(loaded).facts
    assert 0 < facts["logit_diff"] < 0.1 and 0 <= facts["top1_agree"] <= facts["probes"]
    x = torch.rand(5, 3, 8, 8)
    with torch.inference_mode():
        fast = fastpath.forward(loaded, x)
        assert fast.dtype == torch.float32 and not torch.equal(fast, loaded.module(x))
    assert calls == [5]
    assert next(loaded.module.parameters()).dtype == torch.float32  # eager stays float32


def test_damaged_package_runs_eagerly_and_is_rebuilt_later(model):
    plan = fastpath.details(model).plan
    path = store.package_path(plan)
    kept = path.read_bytes()
    try:
        path.write_bytes(b"not a package")
        state = fastpath.prepare(model, enabled=True, build_missing=False)
        assert state.startswith("eager: the compiled package did not load")
        assert not path.exists() and store.read_record(plan) is None  # the next one builds
    finally:
        path.write_bytes(kept)
        assert fastpath.prepare(model, enabled=True, build_missing=False) == "ready"


def test_helper_refuses_a_model_with_other_weights():
    from workbench.core.models import load_model

    loaded = load_model("digits_lenet")
    asked = pickle.loads(helper.request(loaded, "float32"))
    asked["ref"] = dataclasses.replace(asked["ref"], weights_sha256="0" * 64)
    out = subprocess.run(helper.command(), input=pickle.dumps(asked), capture_output=True,
                         timeout=120)
    last = json.loads(out.stdout.decode().strip().splitlines()[-1])
    assert out.returncode == 1 and "other weights" in last["error"]


def test_tapped_copy_shares_weights_and_drops_hooks(model):
    layer = model.layers[0].name
    handle = model.layer_module(layer).register_forward_hook(lambda *_: None)
    try:
        twin = build.weight_sharing_copy(model.module)
        assert not twin.net.get_submodule(layer)._forward_hooks
        assert all(a is b for a, b in zip(twin.parameters(), model.module.parameters(),
                                          strict=True))
    finally:
        handle.remove()


def test_changed_weights_run_eagerly_until_prepared_again(model, calls):
    from workbench.core.provenance import WEIGHTS_HASH_KEY, weights_sha256

    x = pixels(model, 2)
    saved = model.extras.pop(WEIGHTS_HASH_KEY)  # what new CLIP prompts do
    try:
        with torch.inference_mode():
            fastpath.forward(model, x)
        assert calls == []
    finally:
        assert weights_sha256(model) == saved  # the same weights: the package serves again
    with torch.inference_mode():
        fastpath.forward(model, x)
    assert calls == [2]


def test_runtime_releases_the_lock_or_the_window_stays_eager(model, monkeypatch):
    from workbench.core.fastpath import package

    assert fastpath.details(model).run.releases_lock  # ctypes: the lock is released
    try:
        monkeypatch.setattr(package, "Opened", package.Bound)  # torch's binding holds it
        assert fastpath.prepare(model, enabled=True) == "ready"  # the command line uses it
        state = fastpath.prepare(model, enabled=True, lock_budget_ms=40)
        assert "holds Python's interpreter lock" in state and not fastpath.is_ready(model)
    finally:
        monkeypatch.undo()
        assert fastpath.prepare(model, enabled=True) == "ready"
