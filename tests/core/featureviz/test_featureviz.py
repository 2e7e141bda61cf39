"""Feature visualization: every objective goes up, hooks go away, Lite0 channels."""

import numpy as np
import pytest
import torch
from torch import nn

from tests.core.attribution.tiny import hook_count
from workbench.core.featureviz import (
    Channel,
    ClassLogit,
    ClassProbability,
    Diversity,
    FeatureVizConfig,
    LayerDream,
    Neuron,
    evaluate,
    run_to_end,
    visualize,
)
from workbench.core.featureviz.parameterization import FourierImage
from workbench.core.jobs import PlainContext
from workbench.core.models.registry import wrap_model
from workbench.errors import Cancelled

STILL = FeatureVizConfig(pad=0, jitter=0, scale=0.0, rotate=0.0, lr=0.05)


def small_model():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1),
                        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
    prep = {"mean": (0.5,) * 3, "std": (0.25,) * 3, "input_size": (24, 24)}
    return wrap_model(net, prep, list("abcd"), "small", "test", "image", torch.device("cpu"))


OBJECTIVES = {
    "channel": lambda: Channel("2", 3),
    "neuron": lambda: Neuron("2", 1, x=5, y=7),
    "deepdream": lambda: LayerDream("1"),
    "logit": lambda: ClassLogit(2),
    "probability": lambda: ClassProbability(1),
    "negative": lambda: -Channel("2", 0),
    "sum": lambda: Channel("2", 3) + 0.5 * LayerDream("1"),
    "difference": lambda: ClassLogit(2) - ClassLogit(0),
    "diversity": lambda: Channel("2", 3) + 10 * Diversity("1"),
}


@pytest.mark.parametrize("name", OBJECTIVES)
@pytest.mark.parametrize("kind", ["pixel", "fft"])
def test_a_few_steps_increase_every_objective(name, kind):
    model = small_model()
    objective = OBJECTIVES[name]()
    start = torch.rand(2, 3, 24, 24, generator=torch.Generator().manual_seed(1)) * 0.5 + 0.25
    config = FeatureVizConfig(**{**STILL.__dict__, "parameterization": kind})
    before = evaluate(model, objective, start).sum()
    last = run_to_end(model, objective, config=config, steps=8, batch=2, size=24, init=start)
    after = evaluate(model, objective, torch.from_numpy(last.images).permute(0, 3, 1, 2)).sum()
    assert after > before
    assert last.images.shape == (2, 24, 24, 3)
    assert 0.0 <= last.images.min() and last.images.max() <= 1.0


def test_hooks_are_removed_on_finish_cancel_and_close():
    model = small_model()
    before = hook_count(model.module)
    run_to_end(model, Channel("2", 1), steps=2, size=24)
    assert hook_count(model.module) == before
    ctx = PlainContext()
    ctx.cancel()
    with pytest.raises(Cancelled):
        run_to_end(model, Channel("2", 1), steps=2, size=24, ctx=ctx)
    assert hook_count(model.module) == before
    generator = visualize(model, Channel("2", 1), steps=50, size=24, snapshot_every=1)
    next(generator)
    assert hook_count(model.module) > before
    generator.close()
    assert hook_count(model.module) == before
    assert not any(p.requires_grad for p in model.module.parameters())


def test_live_config_changes_and_resume():
    model = small_model()
    config = FeatureVizConfig(lr=0.01)
    state = {}
    generator = visualize(model, Channel("2", 1), config=config, steps=6, size=24,
                          snapshot_every=1, state=state)
    next(generator)
    config.lr = 0.2
    config.parameterization = "pixel"
    snapshot = next(generator)
    assert state["optimizer"].param_groups[0]["lr"] == 0.2
    assert state["image"].kind == "pixel"
    generator.close()
    resumed = run_to_end(model, Channel("2", 1), config=config, steps=3, size=24, state=state)
    assert resumed.step == snapshot.step + 3


def test_fourier_image_can_start_from_a_picture():
    picture = torch.rand(1, 3, 32, 32) * 0.8 + 0.1
    image = FourierImage(1, 32, "cpu", init=picture)
    torch.testing.assert_close(image.image(), picture, atol=1e-3, rtol=1e-3)


def test_image_size_independent_of_the_model_input():
    last = run_to_end(small_model(), Channel("2", 1), steps=2, size=40)
    assert last.images.shape == (1, 40, 40, 3)


@pytest.mark.slow
def test_lite0_channel_images_excite_their_own_channel(lite0):
    layer, channels = "_blocks.10", [3, 17, 40, 99]
    images = []
    for channel in channels:
        last = run_to_end(lite0, Channel(layer, channel), steps=64, size=128, seed=channel)
        images.append(torch.from_numpy(last.images).permute(0, 3, 1, 2))
    images = torch.cat(images)
    noise = torch.rand(4, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    scores = np.stack([evaluate(lite0, Channel(layer, c), images) for c in channels], axis=1)
    noise_scores = np.stack([evaluate(lite0, Channel(layer, c), noise) for c in channels], 1)
    own = np.diag(scores)  # image i on channel i
    others = (scores.sum(axis=0) - own) / (len(channels) - 1)  # other images on channel i
    assert (own > noise_scores.max(axis=0) + 1.0).all(), (own, noise_scores)
    assert own.mean() > 3 * max(others.mean(), noise_scores.mean(), 0.1)
    assert (own > others).all()
