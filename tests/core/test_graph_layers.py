"""Layers of ``torch.export`` programs (``.pt2``) and TorchScript files are hookable: the
layer tree, Grad-CAM and feature extraction match the eager model's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import fx, nn
from torchvision.models import resnet18

from workbench.core.attribution import attribute
from workbench.core.embedding.datasets import arrays_dataset
from workbench.core.embedding.features import extract_features
from workbench.core.models import graph_layers
from workbench.core.models.checkpoint import IMAGENET_MEAN, IMAGENET_STD, CheckpointOptions
from workbench.core.models.introspect import count_hooks
from workbench.core.models.registry import load_model, parse_spec, wrap_model

SIZE = 112  # small input: the whole file runs in seconds


@pytest.fixture(scope="module")
def eager():
    torch.manual_seed(0)
    net = resnet18(weights=None).eval()
    prep = {"mean": IMAGENET_MEAN, "std": IMAGENET_STD, "input_size": (SIZE, SIZE)}
    return net, wrap_model(_copy(net), prep, [], "resnet18", "eager", "image",
                           torch.device("cpu"))


def _copy(net):
    twin = resnet18(weights=None).eval()
    twin.load_state_dict(net.state_dict())
    return twin


def _options():
    return CheckpointOptions(input_size=SIZE)


@pytest.fixture(scope="module")
def exported(eager, tmp_path_factory):
    net, _ = eager
    path = tmp_path_factory.mktemp("pt2") / "resnet18.pt2"
    program = torch.export.export(_copy(net), (torch.rand(2, 3, SIZE, SIZE),),
                                  dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, str(path))
    return load_model(str(path), checkpoint=_options())


@pytest.fixture(scope="module")
def traced(eager, tmp_path_factory):
    net, _ = eager
    path = tmp_path_factory.mktemp("ts") / "resnet18.ts"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.trace(_copy(net), (torch.rand(1, 3, SIZE, SIZE),)).save(str(path))
    return load_model(str(path), checkpoint=_options())


def _pixels(n=2):
    return torch.rand(n, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))


def test_pt2_is_a_checkpoint_suffix(tmp_path):
    assert parse_spec(str(tmp_path / "model.pt2")).family == "checkpoint"


@pytest.mark.parametrize("kind", ["exported", "traced"])
def test_layer_tree_matches_the_eager_model(kind, eager, request):
    model = request.getfixturevalue(kind)
    _, reference = eager
    assert isinstance(model.module.net, fx.GraphModule)
    shapes = {layer.name: layer.output_shape for layer in model.layers}
    expected = {layer.name: layer.output_shape for layer in reference.layers}
    assert shapes == expected
    assert shapes["layer4"] == (1, 512, 4, 4)
    assert shapes["layer4.1.conv2"] == expected["layer4.1.conv2"]
    types = {layer.name: layer.type_name for layer in model.layers}
    assert types["layer4.1.conv2"] == "Conv2d" and types["layer4.1"] == "BasicBlock"
    conv = model.layer_info("layer4.1.conv2")
    assert conv.num_params == reference.layer_info("layer4.1.conv2").num_params
    assert model.default_cam_layer == reference.default_cam_layer == "layer4"


@pytest.mark.parametrize("kind", ["exported", "traced"])
def test_logits_and_gradcam_equal_the_eager_model(kind, eager, request):
    model = request.getfixturevalue(kind)
    _, reference = eager
    x = _pixels()
    with torch.no_grad():
        torch.testing.assert_close(model.module(x), reference.module(x), rtol=1e-4, atol=1e-4)
    hooks = count_hooks(model.module)
    ours = attribute(model, x, "gradcam")
    theirs = attribute(reference, x, "gradcam")
    assert ours.layer == "layer4" and ours.targets == theirs.targets
    assert ours.maps.abs().max() > 0
    torch.testing.assert_close(ours.maps, theirs.maps, rtol=1e-4, atol=1e-4)
    inner = attribute(model, x, "gradcam", layer="layer4.1.conv2")
    torch.testing.assert_close(
        inner.maps, attribute(reference, x, "gradcam", layer="layer4.1.conv2").maps,
        rtol=1e-4, atol=1e-4)
    assert count_hooks(model.module) == hooks


def test_feature_extraction_at_avgpool(exported, eager):
    _, reference = eager
    images = [(f"img{i}", np.random.default_rng(i).random((SIZE, SIZE, 3), dtype=np.float32))
              for i in range(3)]
    hooks = count_hooks(exported.module)
    ours = extract_features(exported, arrays_dataset(images), "avgpool", batch_size=2,
                            workers=0)
    theirs = extract_features(reference, arrays_dataset(images), "avgpool", batch_size=2,
                              workers=0)
    assert ours.features.shape == (3, 512)
    np.testing.assert_allclose(ours.features, theirs.features, rtol=1e-4, atol=1e-5)
    assert count_hooks(exported.module) == hooks


def test_a_fixed_batch_program_says_how_to_export_a_dynamic_one(eager):
    net, _ = eager
    program = torch.export.export(_copy(net), (torch.rand(1, 3, SIZE, SIZE),))
    module = graph_layers.from_exported_program(program)
    assert module(torch.rand(1, 3, SIZE, SIZE)).shape == (1, 1000)
    with pytest.raises(Exception, match="dynamic batch"):
        module(torch.rand(2, 3, SIZE, SIZE))


def test_scripted_torchscript_has_layers_too(tmp_path):
    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3)))

    torch.manual_seed(0)
    eager = Tiny().eval()
    path = tmp_path / "tiny.ts"
    torch.jit.script(eager).save(str(path))
    model = load_model(str(path), checkpoint=CheckpointOptions(input_size=16))
    assert "layers from its graph" in model.source
    assert [layer.name for layer in model.layers] == ["conv", "fc"]
    assert model.default_cam_layer == "conv"
    reference = wrap_model(eager, {"mean": IMAGENET_MEAN, "std": IMAGENET_STD,
                                   "input_size": (16, 16)}, [], "tiny", "eager", "image",
                           torch.device("cpu"))
    x = torch.rand(2, 3, 16, 16)
    torch.testing.assert_close(attribute(model, x, "gradcam").maps,
                               attribute(reference, x, "gradcam").maps, rtol=1e-4, atol=1e-5)


def test_torchscript_that_cannot_be_converted_keeps_predicting(tmp_path, monkeypatch):
    def fail(*_args):
        raise RuntimeError("unsupported node")

    monkeypatch.setattr(graph_layers, "from_torchscript", fail)
    path = tmp_path / "tiny.ts"
    torch.jit.script(resnet18(weights=None, num_classes=3).eval()).save(str(path))
    with pytest.warns(UserWarning, match="torch.export"):
        model = load_model(str(path), checkpoint=_options())
    assert isinstance(model.module.net, torch.jit.ScriptModule)
    assert model.num_classes == 3 and not model.layers
