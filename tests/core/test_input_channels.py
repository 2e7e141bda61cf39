"""Input size and channels from the model: 1- and 4-channel state dicts load, the app's RGB
pixels are converted as the model needs (and the model says so), any input size is kept."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torchvision.models import resnet18

from workbench.core.attribution import attribute
from workbench.core.models.checkpoint import CheckpointOptions
from workbench.core.models.loaded import LUMA, PixelModel, channel_stats
from workbench.core.models.registry import load_model, wrap_model
from workbench.core.predict import predict_image
from workbench.core.preprocess import model_input


def image(h=80, w=96, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)


def saved_resnet(tmp_path, channels: int):
    torch.manual_seed(channels)
    net = resnet18(num_classes=10)
    net.conv1 = nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
    path = tmp_path / f"resnet18_{channels}ch.pth"
    torch.save(net.state_dict(), path)
    return net.eval(), path


def load(path, size=64):
    return load_model(str(path), checkpoint=CheckpointOptions(
        arch="resnet18", num_classes=10, input_size=size))


MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # torchvision's resnet18 own


def expected_input(x: torch.Tensor, channels: int) -> torch.Tensor:
    """The conversion written out by hand: BT.601 luminance, or RGB + a channel of ones."""
    if channels == 1:
        grey = 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
        return (grey - sum(MEAN) / 3) / (sum(STD) / 3)
    mean = torch.tensor(MEAN + (0.0,)).view(1, 4, 1, 1)
    std = torch.tensor(STD + (1.0,)).view(1, 4, 1, 1)
    return (torch.cat([x, torch.ones_like(x[:, :1])], 1) - mean) / std


@pytest.mark.parametrize("channels", [1, 4])
def test_a_state_dict_with_other_input_channels_loads_and_predicts(tmp_path, channels):
    net, path = saved_resnet(tmp_path, channels)
    model = load(path)
    assert model.extras["in_channels"] == channels == model.module.in_channels
    assert model.module.mean.numel() == channels == model.module.std.numel()
    prediction, x = predict_image(model, image(), topk=3)
    assert x.shape == (1, 3, 64, 64)
    with torch.inference_mode():
        want = net(expected_input(x, channels))
        got = model.module(x)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    assert prediction.best.index == int(want.argmax())
    described = model.input_description()
    assert described["size"] == [64, 64] and described["channels"] == channels
    assert ("luminance" if channels == 1 else "ones") in described["conversion"]
    assert model.input_text().startswith("greyscale" if channels == 1 else "RGB + a constant")

    heat = attribute(model, x, "gradcam", layer=model.default_cam_layer).numpy()[0]
    assert heat.ndim == 2 and np.isfinite(heat).all()


def test_rgb_models_and_grey_builtins_are_unchanged():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.LazyLinear(3))
    x = torch.rand(2, 3, 8, 8)
    grey = PixelModel(net, (0.5,), (0.5,), grey=True)
    assert grey.in_channels == 1 and grey.grey and grey.conversion == "mean"
    torch.testing.assert_close(grey.normalize(x), (x.mean(1, keepdim=True) - 0.5) / 0.5)
    luma = PixelModel(net, MEAN, STD, in_channels=1)
    weights = torch.tensor(LUMA).view(1, 3, 1, 1)
    torch.testing.assert_close(luma.convert(x), (x * weights).sum(1, keepdim=True))
    rgb = PixelModel(nn.Identity(), MEAN, STD)
    assert rgb.in_channels == 3 and not rgb.grey and rgb.normalize(x).shape == x.shape
    assert channel_stats((0.5,), 4, 1.0) == (0.5, 0.5, 0.5, 1.0)


@pytest.mark.parametrize("size", [(299, 299), (48, 80), (32, 32)])
def test_the_input_size_is_the_models(size):
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                        nn.Flatten(), nn.Linear(4, 5))
    prep = {"mean": MEAN, "std": STD, "input_size": size}
    model = wrap_model(net, prep, [], "tiny", "test", "image", torch.device("cpu"))
    x = model_input(model, image(120, 50))
    assert x.shape == (1, 3, *size)
    assert model.input_description() == {"size": list(size), "channels": 3, "conversion": "RGB"}
    assert model.input_text() == f"{size[1]}×{size[0]}"
