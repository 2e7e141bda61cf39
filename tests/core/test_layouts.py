"""Layer layouts are told once (channels-first, channels-last, tokens) and every consumer
reads them the same way: a channels-last layer gives the same CAM, channels and features
as the same tensor read channels-first."""

import numpy as np
import pytest
import torch
from torch import nn

from workbench.core.attribution import attribute
from workbench.core.embedding.features import pool
from workbench.core.featureviz import Channel
from workbench.core.featureviz.dataset_examples import channel_activations
from workbench.core.models.layout import (
    CHANNELS_FIRST,
    CHANNELS_LAST,
    TOKENS,
    detect_layout,
    token_grid,
)
from workbench.core.models.registry import load_model, wrap_model
from workbench.errors import InputError


class Permute(nn.Module):
    def __init__(self, *dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)


class ChannelsLastNet(nn.Module):
    """conv (8 channels, 6×4 from an 12×8 input) → permuted to (N, H, W, C) as ``stage`` →
    back to channels-first as ``back`` → pooled linear head.  ``stage`` and ``back`` hold the
    same values, so every method must agree at both."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.act = nn.ReLU()
        self.stage = Permute(0, 2, 3, 1)
        self.back = Permute(0, 3, 1, 2)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(8 * 6 * 4, 5))

    def forward(self, x):
        return self.head(self.back(self.stage(self.act(self.conv(x)))))


@pytest.fixture(scope="module")
def permuted():
    prep = {"mean": (0.5,) * 3, "std": (0.25,) * 3, "input_size": (12, 8)}
    return wrap_model(ChannelsLastNet(), prep, list("abcde"), "permuted", "test", "image",
                      torch.device("cpu"))


def test_non_square_input_is_told_by_the_probe(permuted):
    stage, back = permuted.layer_info("stage"), permuted.layer_info("back")
    assert stage.output_shape == (1, 6, 4, 8) and stage.layout == CHANNELS_LAST
    assert back.layout == CHANNELS_FIRST
    assert stage.grid == back.grid == (6, 4) and stage.channels == back.channels == 8


@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "layercam", "eigencam", "scorecam"])
def test_cams_agree_at_a_channels_last_layer(permuted, method):
    x = torch.rand(1, 3, 12, 8, generator=torch.Generator().manual_seed(1))
    at_stage = attribute(permuted, x, method, layer="stage", targets=[2]).numpy()
    at_back = attribute(permuted, x, method, layer="back", targets=[2]).numpy()
    np.testing.assert_allclose(at_stage, at_back, rtol=1e-4, atol=1e-6)


def test_channels_features_and_pictures_agree(permuted):
    x = torch.rand(2, 3, 12, 8, generator=torch.Generator().manual_seed(2))
    tensor = permuted.module.net.act(permuted.module.net.conv(permuted.module.normalize(x)))
    as_last = tensor.permute(0, 2, 3, 1)
    np.testing.assert_allclose(pool(as_last, permuted.layer_info("stage")).numpy(),
                               pool(tensor, permuted.layer_info("back")).numpy(), rtol=1e-6)
    image = np.random.default_rng(0).random((12, 8, 3), dtype=np.float32)
    pictures = channel_activations(permuted, image, "stage")
    assert pictures.shape == (8, 6, 4)
    np.testing.assert_allclose(pictures, channel_activations(permuted, image, "back"))
    acts = {"stage": as_last.movedim(-1, 1)}
    assert Channel("stage", 7)(acts, None).shape == (2,)


def test_swin_stages_are_channels_last():
    model = load_model("swin_t:random")
    info = model.layer_info("features.5")
    assert info.output_shape == (1, 14, 14, 384)
    assert info.layout == CHANNELS_LAST and info.channels == 384 and info.grid == (14, 14)
    assert model.layer_info("norm").layout == CHANNELS_LAST
    assert model.layer_info("permute").layout == CHANNELS_FIRST


def test_video_transformer_tokens_follow_the_patch_grid():
    assert token_grid(393, video=True, patch_time=8) == (8, 7, 7)
    assert token_grid(197) == (14, 14) and token_grid(196) == (14, 14)
    assert token_grid(100, video=True, patch_time=None) is None


def test_unknown_layouts_are_said_not_guessed():
    assert detect_layout((1, 7, 7, 7), None, (224, 224))[0] is None
    assert detect_layout((1, 8, 393, 96), None, (16, 224, 224))[0] is None
    assert detect_layout((1, 197, 768), None, (224, 224))[0] == TOKENS
    assert detect_layout((1, 64, 30), (1, 64, 34), (224, 224))[0] is None  # a conv1d


def test_a_layer_of_unknown_layout_gives_a_clear_message(permuted):
    from dataclasses import replace

    from workbench.core.models.layout import channels_first

    info = replace(permuted.layer_info("stage"), layout=None)
    with pytest.raises(InputError, match="cannot tell which axis"):
        channels_first(torch.zeros(1, 6, 4, 8), info)


def test_torchscript_layers_give_a_clear_message(tmp_path, monkeypatch):
    """When a TorchScript graph cannot be converted (test_graph_layers: it usually can)."""
    from workbench.core.models import graph_layers
    from workbench.core.models.checkpoint import CheckpointOptions

    monkeypatch.setattr(graph_layers, "from_torchscript", lambda *_: 1 / 0)
    path = tmp_path / "tiny.ts"
    scripted = torch.jit.script(_TinyClassifier())
    scripted.save(str(path))
    with pytest.warns(UserWarning, match="torch.export"):
        model = load_model(str(path), checkpoint=CheckpointOptions(input_size=16))
    x = torch.rand(1, 3, 16, 16)
    with pytest.raises(InputError, match="TorchScript"):
        attribute(model, x, "gradcam", layer="conv")
    with pytest.raises(InputError, match="TorchScript"):
        attribute(model, x, "gradcam")
    assert attribute(model, x, "saliency").maps.shape == (1, 16, 16)


class _TinyClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(self.conv(x).mean(dim=(2, 3)))
