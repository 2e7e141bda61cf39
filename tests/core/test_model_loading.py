"""torchvision models by name, offline behaviour, and user checkpoints."""

import socket
from pathlib import Path

import pytest
import torch
from torch import nn

from workbench.core.models import load_model, parse_spec
from workbench.core.models.checkpoint import CheckpointOptions
from workbench.errors import (
    ArchitectureNeededError,
    ModelLoadError,
    UntrustedPickleError,
    WeightsNotCachedError,
)


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    return tmp_path / "hub"


def test_torchvision_random_weights_resnet18():
    model = load_model("resnet18:random")
    assert model.name == "resnet18:random"
    assert model.default_cam_layer == "layer4"
    assert model.layer_info("layer4.1.conv2").output_shape == (1, 512, 7, 7)
    assert model.layer_info("fc").num_params == 512 * 1000 + 1000
    assert model.labels[0] == "tench"


def test_vit_default_cam_layer_reaches_the_class_token():
    model = load_model("vit_b_16:random")
    assert model.default_cam_layer == "encoder.layers.encoder_layer_11.ln_1"
    assert model.layer_info(model.default_cam_layer).is_tokens


def test_video_model_kind_and_shape():
    model = load_model("r3d_18:random")
    assert model.kind == "video"
    assert model.input_shape() == (1, 3, 16, 112, 112)
    assert len(model.labels) == 400
    assert model.layer_info(model.default_cam_layer).output_shape == (1, 512, 2, 7, 7)


def test_missing_weights_fail_at_once_naming_the_file(empty_hub):
    with pytest.raises(WeightsNotCachedError) as info:
        load_model("resnet50")
    assert "resnet50-" in str(info.value) and str(empty_hub) in str(info.value)


def test_download_without_internet_names_the_file(empty_hub, monkeypatch):
    def offline(*_args, **_kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", offline)
    with pytest.raises(ModelLoadError) as info:
        load_model("resnet18", download=True)
    assert "resnet18-" in str(info.value) and "unreachable" in str(info.value)


def test_cached_weights_load_offline(empty_hub):
    from torchvision.models import get_model

    target = empty_hub / "checkpoints" / "resnet18-f37072fd.pth"
    target.parent.mkdir(parents=True)
    torch.save(get_model("resnet18", weights=None).state_dict(), target)
    model = load_model("resnet18")
    assert model.name == "resnet18" and "IMAGENET1K_V1" in model.source


def test_unknown_model_name():
    with pytest.raises(ModelLoadError, match="Unknown model 'not_a_model'"):
        parse_spec("not_a_model")


class Tiny(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, classes)

    def forward(self, x):
        return self.fc(self.pool(torch.relu(self.conv(x))).flatten(1))


def test_torchscript_checkpoint(tmp_path):
    path = tmp_path / "tiny.ts"
    torch.jit.script(Tiny()).save(str(path))
    model = load_model(str(path), checkpoint=CheckpointOptions(input_size=32))
    assert model.labels == ["class 0", "class 1", "class 2"]
    assert "TorchScript" in model.source


def test_state_dict_with_architecture_and_labels(tmp_path):
    from torchvision.models import resnet18

    path = tmp_path / "weights.pth"
    torch.save({"state_dict": resnet18(num_classes=3).state_dict()}, path)
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\ndog\nbird\n")
    with pytest.raises(ArchitectureNeededError):
        load_model(str(path))
    model = load_model(str(path), checkpoint=CheckpointOptions(arch="resnet18",
                                                               labels_file=str(labels)))
    assert model.labels == ["cat", "dog", "bird"]


def test_state_dict_with_wrong_keys_or_shapes(tmp_path):
    from torchvision.models import resnet18

    path = tmp_path / "wrong.pth"
    torch.save(Tiny().state_dict(), path)
    with pytest.raises(ModelLoadError, match="missing keys"):
        load_model(str(path), checkpoint=CheckpointOptions(arch="resnet18"))
    state = resnet18(num_classes=10).state_dict()
    state["conv1.weight"] = torch.zeros(64, 3, 5, 5)
    torch.save(state, path)
    with pytest.raises(ModelLoadError, match="conv1.weight is"):
        load_model(str(path), checkpoint=CheckpointOptions(arch="resnet18"))


class Marker:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickle_never_runs_without_trust(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"weights": Marker(str(marker))}, path)
    with pytest.raises(UntrustedPickleError, match="trust"):
        load_model(str(path))
    assert not marker.exists()


def test_whole_pickled_model_only_with_trust(tmp_path):
    path = tmp_path / "whole.pt"
    torch.save(nn.Sequential(nn.Conv2d(3, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(2, 5)), path)
    with pytest.raises(UntrustedPickleError):
        load_model(str(path))
    model = load_model(str(path), checkpoint=CheckpointOptions(trust=True, input_size=16))
    assert model.num_classes == 5 and "trusted" in model.source


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (bytes(range(256)) * 8, "not a PyTorch checkpoint"),
    (b"hello\n" * 50, "not a PyTorch checkpoint"),
])
def test_bad_checkpoint_files(tmp_path, content, message):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match=message):
        load_model(str(path))


def test_checkpoint_folder_and_missing(tmp_path):
    with pytest.raises(ModelLoadError, match="folder"):
        load_model(str(tmp_path) + "/")
    with pytest.raises(ModelLoadError, match="not found"):
        load_model(str(Path(tmp_path) / "nope.pt"))


def test_model_with_wrong_output_shape(tmp_path):
    path = tmp_path / "spatial.ts"
    torch.jit.script(nn.Conv2d(3, 2, 3)).save(str(path))
    with pytest.raises(ModelLoadError, match="must return"):
        load_model(str(path), checkpoint=CheckpointOptions(input_size=16))


def test_random_weights_are_seeded_by_the_name():
    """NAME:random is the same model every time (seed 0); NAME:random:SEED another one;
    the caller's random state is left alone."""
    import torch

    from workbench.core.models.registry import load_model, parse_spec

    assert parse_spec("resnet18:random:7").seed == 7 and not parse_spec("resnet18:random").seed
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first, again = load_model("resnet18:random"), load_model("resnet18:random")
    assert torch.equal(torch.rand(1), before)
    other = load_model("resnet18:random:1")
    x = torch.rand(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(first.module(x), again.module(x))
        assert not torch.allclose(first.module(x), other.module(x))
    assert (first.name, other.name) == ("resnet18:random", "resnet18:random:1")


def test_a_zoo_prefix_without_its_library_says_how_to_install(monkeypatch):
    import builtins

    from workbench.core.models import registry
    from workbench.errors import ModelLoadError

    real_import = builtins.__import__

    def no_zoo(name, *args, **kwargs):
        if name.startswith("workbench.core.models.timm_zoo") or name == "timm":
            raise ModuleNotFoundError(f"No module named '{name}'", name="timm")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_zoo)
    monkeypatch.delitem(__import__("sys").modules, "workbench.core.models.timm_zoo",
                        raising=False)
    with pytest.raises(ModelLoadError, match=r"pip install -e \".\[timm\]\""):
        registry.zoo_module("timm")
