"""Every registered attack on a small random CNN: budgets, [0, 1], goals, early stop,
cancellation, and the published one-line definitions of FGSM and PGD."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from tests.core.adversarial.nets import pixels, tiny_model
from tests.core.attribution.tiny import hook_count
from tests.helpers import CancelAfter
from workbench.core.adversarial import (
    METHOD_ORDER,
    METHODS,
    attack,
    epsilon_sweep,
    get_attack,
    quantize_8bit,
)
from workbench.core.jobs import PlainContext
from workbench.errors import Cancelled, InputError

LINF_EPS = 4 / 255
L2_EPS = 0.3
FAST = {"cw": {"steps": 20}, "deepfool": {"steps": 10}}


@pytest.fixture(scope="module")
def model():
    return tiny_model()


def budget_params(method):
    eps = LINF_EPS if METHODS[method].norm == "linf" else L2_EPS
    return {**FAST.get(method, {}), "eps": eps}, eps


def test_registry_has_every_attack_of_the_issue():
    assert set(METHOD_ORDER) == set(METHODS)
    for method in METHODS.values():
        assert method.paper.startswith("https://arxiv.org/abs/")
        assert method.norm in ("linf", "l2")


@pytest.mark.parametrize("target", [None, "least-likely"])
@pytest.mark.parametrize("method", METHOD_ORDER)
def test_attack_respects_its_budget_and_the_pixel_range(model, method, target):
    x = pixels(3)
    before = hook_count(model.module)
    params, eps = budget_params(method)
    result = attack(model, x, method, target=target, params=params)
    adv = result.adversarial
    assert adv.shape == x.shape and not adv.requires_grad
    assert adv.min() >= 0.0 and adv.max() <= 1.0
    torch.testing.assert_close(result.perturbation, adv - x)
    delta = (adv - x).flatten(1)
    if METHODS[method].norm == "linf":
        assert (delta.abs().amax(1) <= eps + 1e-6).all()
    else:
        assert (delta.norm(dim=1) <= eps + 1e-5).all()
    np.testing.assert_allclose(result.linf, delta.abs().amax(1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(result.l2, delta.norm(dim=1).numpy(), rtol=1e-5)
    assert result.success.shape == (3,) and result.success.dtype == bool
    assert result.logits_after.shape == (3, 5) and result.method == method
    assert result.targeted == (target is not None)
    assert hook_count(model.module) == before
    assert not any(p.requires_grad for p in model.module.parameters())


def test_fgsm_is_the_one_line_formula(model):
    x = pixels(4)
    eps = 8 / 255
    leaf = x.clone().requires_grad_(True)
    logits = model.module(leaf)
    loss = F.cross_entropy(logits, logits.argmax(1), reduction="sum")
    (grad,) = torch.autograd.grad(loss, leaf)
    expected = (x + eps * grad.sign()).clamp(0, 1)
    result = attack(model, x, "fgsm", params={"eps": eps})
    torch.testing.assert_close(result.adversarial, expected, rtol=0, atol=1e-7)
    assert result.steps_run == 1


def test_one_pgd_step_without_random_start_is_fgsm(model):
    x = pixels(4)
    pgd = attack(model, x, "pgd", params={"eps": 6 / 255, "step_size": 6 / 255, "steps": 1,
                                          "random_start": False})
    fgsm = attack(model, x, "fgsm", params={"eps": 6 / 255})
    torch.testing.assert_close(pgd.adversarial, fgsm.adversarial, rtol=0, atol=1e-7)


def test_bim_is_pgd_without_random_start(model):
    x = pixels(2)
    common = {"eps": 6 / 255, "step_size": 1 / 255, "steps": 5}
    bim = attack(model, x, "bim", params=common)
    pgd = attack(model, x, "pgd", params={**common, "random_start": False})
    torch.testing.assert_close(bim.adversarial, pgd.adversarial, rtol=0, atol=1e-7)


def test_pgd_random_start_is_seeded(model):
    x = pixels(2)
    a = attack(model, x, "pgd", params={"seed": 3}).adversarial
    b = attack(model, x, "pgd", params={"seed": 3}).adversarial
    c = attack(model, x, "pgd", params={"seed": 4}).adversarial
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("method", METHOD_ORDER)
def test_targeted_attack_raises_the_target_probability(model, method):
    x = pixels(4, seed=5)
    params = {"eps": 16 / 255} if METHODS[method].norm == "linf" else {"eps": 2.0}
    result = attack(model, x, method, target="least-likely", params={**FAST.get(method, {}),
                                                                     **params})
    rows = torch.arange(4)
    before = result.probs_before[rows, result.targets]
    after = result.probs_after[rows, result.targets]
    assert (after > before).all(), (before, after)


def test_least_likely_target_is_the_lowest_clean_logit(model):
    x = pixels(4)
    result = attack(model, x, "pgd", target="least-likely", params={"steps": 2})
    assert result.targeted
    assert torch.equal(result.targets, result.logits_before.argmin(1))
    assert torch.equal(result.source, result.logits_before.argmax(1))


def test_untargeted_default_moves_away_from_top1_or_given_labels(model):
    x = pixels(3)
    result = attack(model, x, "pgd", params={"eps": 32 / 255, "steps": 10})
    assert torch.equal(result.targets, result.top1_before)
    assert np.array_equal(result.success, (result.top1_after != result.top1_before).numpy())
    assert result.success.any()
    labels = [(int(t) + 1) % 5 for t in result.top1_before]
    given = attack(model, x, "fgsm", labels=labels)
    assert given.targets.tolist() == labels


def test_given_labels_skip_the_clean_forward_until_asked(model):
    x = pixels(3)
    calls = []
    handle = model.module.register_forward_hook(lambda *_: calls.append(1))
    try:
        labelled = attack(model, x, "pgd", params={"steps": 4}, labels=[0, 1, 2])
        assert len(calls) == 4 + 1  # the steps and the final report
        before = labelled.logits_before  # computed now, once
        assert len(calls) == 6
        assert labelled.logits_before is before
    finally:
        handle.remove()
    with torch.no_grad():
        torch.testing.assert_close(before, model.module(x))


def test_early_stop_freezes_images_that_already_fool_the_model(model):
    x = pixels(4)
    common = {"eps": 64 / 255, "step_size": 8 / 255, "steps": 20, "random_start": False}
    full = attack(model, x, "pgd", params=common)
    early = attack(model, x, "pgd", params={**common, "early_stop": True})
    assert full.steps_run == 20
    assert early.success.all() and early.steps_run < 20
    assert (early.linf <= full.linf + 1e-6).all()
    own = attack(model, x, "pgd", target=full.top1_before.tolist(),
                 params={**common, "early_stop": True})
    assert own.steps_run == 0 and torch.equal(own.adversarial, x) and own.success.all()


@pytest.mark.parametrize("method", METHOD_ORDER)
def test_cancel_leaves_no_hooks_and_no_weight_gradients(model, method):
    x = pixels(2)
    before = hook_count(model.module)
    with pytest.raises(Cancelled):
        attack(model, x, method, params=FAST.get(method), ctx=CancelAfter(1))
    with pytest.raises(Cancelled):
        attack(model, x, method, ctx=CancelAfter(0))
    assert hook_count(model.module) == before
    assert not any(p.requires_grad for p in model.module.parameters())
    assert all(p.grad is None for p in model.module.parameters())


def test_progress_reaches_one(model):
    seen = []
    ctx = PlainContext(on_progress=lambda f, m: seen.append((f, m)))
    attack(model, pixels(1), "mifgsm", params={"steps": 4}, ctx=ctx)
    assert [f for f, _ in seen] == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert "step 4 of 4" in seen[-2][1]


def test_a_batch_equals_single_calls(model):
    x = pixels(3)
    params = {"steps": 3, "random_start": False}
    batch = attack(model, x, "pgd", params=params).adversarial
    for i in range(3):
        single = attack(model, x[i : i + 1], "pgd", params=params).adversarial
        torch.testing.assert_close(batch[i : i + 1], single, rtol=0, atol=1e-6)


@pytest.mark.parametrize("mode", [torch.no_grad, torch.inference_mode])
def test_runs_inside_no_grad_and_inference_mode(model, mode):
    with mode():
        x = pixels(1)
        result = attack(model, x, "pgd", params={"steps": 2})
        sweep = epsilon_sweep(model, x, "fgsm", [0.0, 0.1])
    assert result.linf[0] > 0 and sweep.result.linf[1] > 0
    assert not result.adversarial.requires_grad


def test_quantize_8bit_rounds_to_grey_levels():
    x = torch.tensor([0.0, 0.5 / 255 - 1e-4, 0.5 / 255 + 1e-4, 0.3, 1.0, 1.2, -0.1])
    q = quantize_8bit(x)
    torch.testing.assert_close(q * 255, torch.round(q * 255))
    assert q.tolist()[:3] == pytest.approx([0.0, 0.0, 1 / 255])
    assert q.min() == 0.0 and q.max() == 1.0


def test_quantizing_toward_the_original_keeps_the_budget():
    """The original sits between grey levels: plain rounding can step past 8/255 (8.5/255
    measured), the level nearer the original never does."""
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 32, 32, generator=generator)
    eps = 8 / 255
    adv = (x + eps * torch.sign(torch.randn(x.shape, generator=generator))).clamp(0, 1)
    plain, toward = quantize_8bit(adv), quantize_8bit(adv, x)
    assert float((plain - x).abs().max()) * 255 > 8.2
    assert float((toward - x).abs().max()) <= eps + 1e-6
    torch.testing.assert_close(toward * 255, torch.round(toward * 255))
    assert float((toward - x).norm()) <= float((adv - x).norm()) + 1e-6


def test_epsilon_sweep_is_one_batch_with_a_budget_per_row(model):
    x = pixels(1, seed=7)
    eps = [0.0, 2 / 255, 8 / 255, 32 / 255, 96 / 255]
    sweep = epsilon_sweep(model, x, "pgd", eps, params={"steps": 8, "random_start": False})
    assert sweep.adversarial.shape == (5, 3, 16, 16)
    assert sweep.true_prob.shape == sweep.top1.shape == sweep.success.shape == (5,)
    assert sweep.target_prob is None
    torch.testing.assert_close(sweep.adversarial[0], x[0])
    clean = torch.softmax(model.module(x), 1)[0, sweep.true_class]
    assert sweep.true_prob[0] == pytest.approx(float(clean), rel=1e-5)
    assert (sweep.result.linf <= np.array(eps) + 1e-6).all()
    assert sweep.true_prob[-1] < sweep.true_prob[0]
    assert (np.diff(sweep.true_prob) <= 1e-6).sum() >= 3  # falls almost everywhere
    single = attack(model, x, "pgd", params={"eps": eps[2], "steps": 8, "random_start": False})
    torch.testing.assert_close(sweep.adversarial[2:3], single.adversarial, rtol=0, atol=1e-6)


def test_targeted_sweep_reports_the_target_probability(model):
    x = pixels(1, seed=7)
    sweep = epsilon_sweep(model, x, "fgsm", [0.0, 4 / 255, 16 / 255], target=2)
    assert sweep.target == 2 and sweep.target_prob.shape == (3,)
    assert sweep.target_prob[-1] > sweep.target_prob[0]
    l2 = epsilon_sweep(model, x, "deepfool", [0.0, 0.1, 10.0])
    assert l2.result.l2[0] == 0.0 and l2.result.l2[1] <= 0.1 + 1e-5


@pytest.mark.parametrize("call,fragment", [
    (lambda m, x: attack(m, x, "nonsense"), "unknown attack"),
    (lambda m, x: attack(m, x, "pgd", target="most-likely"), "least-likely"),
    (lambda m, x: attack(m, x, "pgd", target=9), "outside 0"),
    (lambda m, x: attack(m, x, "pgd", target=[1, 2, 3]), "3 classes for a batch of 2"),
    (lambda m, x: attack(m, x * float("nan"), "fgsm"), "NaN"),
    (lambda m, x: attack(m, x * 255, "fgsm"), "pixels in \\[0, 1\\]"),
    (lambda m, x: attack(m, x[0], "fgsm"), "expects a batch"),
    (lambda m, x: attack(m, x, "fgsm", params={"steps": 3}), "unknown parameter"),
    (lambda m, x: attack(m, x, "pgd", params={"eps": -1.0}), "eps must be at least"),
    (lambda m, x: epsilon_sweep(m, x, "fgsm", [0.1]), "one image"),
    (lambda m, x: epsilon_sweep(m, x[:1], "fgsm", []), "non-empty"),
])
def test_user_errors_are_input_errors(model, call, fragment):
    with pytest.raises(InputError, match=fragment):
        call(model, pixels(2))


def test_params_dataclass_instances_are_accepted_and_checked(model):
    pgd = get_attack("pgd")
    params = pgd.params_cls(steps=2)
    assert attack(model, pixels(1), "pgd", params=params).params is params
    with pytest.raises(InputError, match="not PGDParams"):
        attack(model, pixels(1), "fgsm", params=params)
