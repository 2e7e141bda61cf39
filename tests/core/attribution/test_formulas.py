"""Each method equals its paper's formula on a network whose values are known by hand."""

import numpy as np
import pytest
import torch

from tests.core.attribution.tiny import known_model
from workbench.core.attribution import attribute

TARGET = 1


@pytest.fixture(scope="module")
def setup():
    model = known_model()
    x = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(3))
    net = model.module.net
    wc = net.conv.weight.detach()[:, :, 0, 0].numpy()  # (2, 3)
    pixels = x[0].numpy()  # (3, 4, 4)
    activations = np.maximum(np.einsum("kc,chw->khw", wc, pixels), 0)  # (2, 4, 4)
    gradients = net.fc.weight.detach()[TARGET].view(2, 4, 4).numpy()
    return model, x, activations, gradients


def run(model, x, method, **kwargs):
    return attribute(model, x, method, layer="relu", targets=[TARGET], **kwargs).numpy()[0]


def relu(a):
    return np.maximum(a, 0)


def test_gradcam(setup):
    model, x, a, g = setup
    weights = g.mean(axis=(1, 2))
    expected = relu((weights[:, None, None] * a).sum(0))
    np.testing.assert_allclose(run(model, x, "gradcam"), expected, rtol=1e-5, atol=1e-6)


def test_gradcam_plus_plus(setup):
    model, x, a, g = setup
    sums = a.sum(axis=(1, 2))[:, None, None]
    alphas = g**2 / (2 * g**2 + sums * g**3)
    weights = (alphas * relu(g)).sum(axis=(1, 2))
    expected = relu((weights[:, None, None] * a).sum(0))
    np.testing.assert_allclose(run(model, x, "gradcam++"), expected, rtol=1e-5, atol=1e-6)


def test_xgradcam(setup):
    model, x, a, g = setup
    weights = (a / a.sum(axis=(1, 2))[:, None, None] * g).sum(axis=(1, 2))
    expected = relu((weights[:, None, None] * a).sum(0))
    np.testing.assert_allclose(run(model, x, "xgradcam"), expected, rtol=1e-5, atol=1e-6)


def test_layercam(setup):
    model, x, a, g = setup
    expected = relu((relu(g) * a).sum(0))
    np.testing.assert_allclose(run(model, x, "layercam"), expected, rtol=1e-5, atol=1e-6)


def test_hirescam(setup):
    model, x, a, g = setup
    expected = relu((g * a).sum(0))
    np.testing.assert_allclose(run(model, x, "hirescam"), expected, rtol=1e-5, atol=1e-6)


def test_eigencam(setup):
    model, x, a, _ = setup
    positions = a.reshape(2, -1).T  # (hw, C)
    centred = positions - positions.mean(axis=0)  # principal components of centred data
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    projection = centred @ vt[0]
    strength = np.linalg.norm(positions, axis=1)
    if (projection * (strength - strength.mean())).sum() < 0:
        projection = -projection
    expected = relu(projection).reshape(4, 4)
    np.testing.assert_allclose(run(model, x, "eigencam"), expected, rtol=1e-4, atol=1e-5)


def test_scorecam(setup):
    model, x, a, _ = setup
    weights = []
    for k in range(2):
        mask = (a[k] - a[k].min()) / (a[k].max() - a[k].min())
        with torch.no_grad():
            logits = model.module(x * torch.from_numpy(mask).float())
        weights.append(torch.softmax(logits, 1)[0, TARGET].item())
    expected = relu((np.array(weights)[:, None, None] * a).sum(0))
    np.testing.assert_allclose(run(model, x, "scorecam"), expected, rtol=1e-5, atol=1e-6)


def input_gradient(model, g):
    """d score / d x for the known net: Σ_k W_fc[k] · Wc[k, c] · relu'(A_k)."""
    net = model.module.net
    wc = net.conv.weight.detach()[:, :, 0, 0].numpy()
    return np.einsum("khw,kc->chw", g, wc)


def test_saliency(setup):
    model, x, a, g = setup
    grad = input_gradient(model, g * (a > 0))
    np.testing.assert_allclose(run(model, x, "saliency"), np.abs(grad).max(0), rtol=1e-5,
                               atol=1e-6)


def test_integrated_gradients_on_a_linear_path(setup):
    model, x, a, g = setup
    # All activations are positive here, so the net is linear on the path from black.
    assert (a > 0).all()
    grad = input_gradient(model, g)
    expected = np.abs(((x[0].numpy() - 0.0) * grad).sum(0))
    out = run(model, x, "integrated-gradients", params={"steps": 8})
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-6)


def test_integrated_gradients_completeness(setup):
    model, x, *_ = setup
    from workbench.core.attribution.integrated_gradients import (
        IntegratedGradients,
        IntegratedGradientsParams,
    )
    from workbench.core.jobs import PlainContext

    attr = IntegratedGradients().attribute(model, x[0], TARGET,
                                           IntegratedGradientsParams(steps=64), PlainContext())
    with torch.no_grad():
        gap = model.module(x)[0, TARGET] - model.module(torch.zeros_like(x))[0, TARGET]
    assert float(attr.sum()) == pytest.approx(float(gap), rel=1e-3)


def test_smoothgrad_without_noise_is_saliency(setup):
    model, x, *_ = setup
    smooth = run(model, x, "smoothgrad", params={"samples": 3, "noise": 0.0})
    np.testing.assert_allclose(smooth, run(model, x, "saliency"), rtol=1e-5, atol=1e-7)


def test_guided_backprop_blocks_negative_gradients(setup):
    model, x, a, g = setup
    # Guided: the gradient into the ReLU keeps only its positive part.
    grad = input_gradient(model, np.maximum(g, 0) * (a > 0))
    np.testing.assert_allclose(run(model, x, "guided-backprop"), np.abs(grad).max(0),
                               rtol=1e-5, atol=1e-6)


def test_guided_gradcam_is_the_product(setup):
    model, x, *_ = setup
    product = run(model, x, "guided-backprop") * run(model, x, "gradcam")
    np.testing.assert_allclose(run(model, x, "guided-gradcam"), product, rtol=1e-5, atol=1e-7)


def test_attention_rollout_by_hand():
    from workbench.core.attribution.attention_rollout import rollout

    a1 = torch.tensor([[[0.5, 0.25, 0.25], [0.2, 0.6, 0.2], [0.1, 0.1, 0.8]]])[:, None]
    a2 = torch.tensor([[[0.2, 0.3, 0.5], [0.3, 0.3, 0.4], [0.6, 0.2, 0.2]]])[:, None]
    eye = np.eye(3)
    m1 = (a1[0, 0].numpy() + eye) / 2
    m2 = (a2[0, 0].numpy() + eye) / 2
    expected = (m2 / m2.sum(1, keepdims=True)) @ (m1 / m1.sum(1, keepdims=True))
    out = rollout([a1, a2], "mean", 0.0)
    np.testing.assert_allclose(out[0].numpy(), expected[0, 1:], rtol=1e-6)
