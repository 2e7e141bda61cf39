"""Checkpoints as training scripts write them: safetensors for torchvision and timm
architectures (never unpickled), nested / EMA / prefixed state dicts, mean / std, a pickled
model whose class lives in the user's folder, and forwards that return tuples or dicts."""

from __future__ import annotations

import pickle
import sys
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from tests.helpers import pickle_from_code
from workbench.core.models import load_model
from workbench.core.models.checkpoint import CheckpointOptions
from workbench.errors import (
    ArchitectureNeededError,
    CodeNeededError,
    ModelLoadError,
    UntrustedPickleError,
)


@pytest.fixture(scope="module")
def resnet_state():
    from torchvision.models import resnet18

    torch.manual_seed(0)
    return resnet18(num_classes=10).state_dict()


@pytest.fixture
def no_unpickling(monkeypatch):
    """Any call to pickle's loaders fails the test."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("a safetensors file was unpickled")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)


def test_safetensors_torchvision_resnet18(tmp_path, resnet_state, no_unpickling):
    from safetensors.torch import save_file

    path = tmp_path / "weights.safetensors"
    save_file(resnet_state, str(path))
    with pytest.raises(ArchitectureNeededError, match="--arch"):
        load_model(str(path))
    model = load_model(str(path), checkpoint=CheckpointOptions(arch="resnet18", input_size=32))
    assert model.num_classes == 10 and "safetensors" in model.source
    assert torch.equal(model.module.net.fc.weight, resnet_state["fc.weight"])


def test_safetensors_timm_resnet18_with_its_config(tmp_path, no_unpickling):
    timm = pytest.importorskip("timm")
    from safetensors.torch import save_file

    torch.manual_seed(0)
    net = timm.create_model("resnet18", pretrained=False, num_classes=10)
    path = tmp_path / "timm.safetensors"
    save_file(net.state_dict(), str(path))
    model = load_model(str(path), checkpoint=CheckpointOptions(arch="timm:resnet18",
                                                               num_classes=10))
    assert model.num_classes == 10 and model.input_size == (224, 224)
    x = torch.rand(1, 3, 64, 64)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        torch.testing.assert_close(model.module(x), net.eval()((x - mean) / std))


def test_damaged_safetensors(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all")
    with pytest.raises(ModelLoadError, match="not a safetensors file"):
        load_model(str(path), checkpoint=CheckpointOptions(arch="resnet18"))


def _wrap(state, layout):
    prefixed = {f"module.{k}": v for k, v in state.items()}
    return {
        "model": {"model": state, "epoch": 3},
        "state_dict": {"state_dict": state, "optimizer": {}},
        "model_state_dict": {"model_state_dict": state, "epoch": 1, "loss": 0.3},
        "state_dict_ema": {"state_dict_ema": prefixed, "epoch": 9},
        "model_ema": {"model_ema": state, "optimizer": {"lr": 0.1}},
        "module.": prefixed,
        "lightning": {"state_dict": {f"model.{k}": v for k, v in state.items()}, "epoch": 2},
    }[layout]


@pytest.mark.parametrize("layout", ["model", "state_dict", "model_state_dict", "state_dict_ema",
                                    "model_ema", "module.", "lightning"])
def test_common_layouts_load_without_help(tmp_path, resnet_state, layout):
    path = tmp_path / "ckpt.pth"
    torch.save(_wrap(resnet_state, layout), path)
    model = load_model(str(path), checkpoint=CheckpointOptions(arch="resnet18", num_classes=10,
                                                               input_size=32))
    assert model.num_classes == 10
    assert torch.equal(model.module.net.conv1.weight, resnet_state["conv1.weight"])
    assert ("EMA" in model.source) == ("ema" in layout)


def test_unknown_layout_lists_its_keys(tmp_path):
    path = tmp_path / "odd.pth"
    torch.save({"epoch": 3, "weights_of_my_net": {"a": 1}, "notes": "hi"}, path)
    with pytest.raises(ModelLoadError) as info:
        load_model(str(path), checkpoint=CheckpointOptions(arch="resnet18"))
    message = str(info.value)
    assert "epoch" in message and "weights_of_my_net" in message and "notes" in message


def test_mean_std_and_input_size(tmp_path, resnet_state):
    path = tmp_path / "ckpt.pth"
    torch.save(resnet_state, path)
    model = load_model(str(path), checkpoint=CheckpointOptions(
        arch="resnet18", mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), input_size=64))
    assert model.module.mean.tolist() == [0.5] * 3 and model.module.std.tolist() == [0.25] * 3
    assert model.input_size == (64, 64)
    with pytest.raises(ModelLoadError, match="std"):
        load_model(str(path), checkpoint=CheckpointOptions(arch="resnet18", std=(1, 0, 1)))


MYNETS = """
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.fc = nn.Linear(4, 6)

        def forward(self, x):
            return self.fc(self.conv(x).mean((2, 3)))
"""


def test_code_folder_for_a_pickled_model_only_with_trust(tmp_path, monkeypatch):
    code, path = pickle_from_code(tmp_path, monkeypatch, "mynets_wb_test", MYNETS, "Net",
                                  folder="code")
    with pytest.raises(UntrustedPickleError):  # --code alone adds nothing to the path
        load_model(str(path), checkpoint=CheckpointOptions(code=str(code), input_size=16))
    assert str(code) not in sys.path and "mynets_wb_test" not in sys.modules
    with pytest.raises(CodeNeededError, match="mynets_wb_test.*--code"):
        load_model(str(path), checkpoint=CheckpointOptions(trust=True, input_size=16))
    model = load_model(str(path), checkpoint=CheckpointOptions(trust=True, code=str(code),
                                                               input_size=16))
    assert model.num_classes == 6 and "trusted" in model.source
    monkeypatch.delitem(sys.modules, "mynets_wb_test")


class TwoHeads(nn.Module):
    """Forward returns a tuple, a dict or an object, each with two (N, K) candidates."""

    def __init__(self, style):
        super().__init__()
        self.style = style
        self.conv = nn.Conv2d(3, 4, 3)
        self.main = nn.Linear(4, 3)
        self.aux = nn.Linear(4, 7)

    def forward(self, x):
        h = self.conv(x).mean((2, 3))
        main, aux = self.main(h), self.aux(h)
        if self.style == "tuple":
            return h[:, :1, None], aux, main  # a 3-D part first: never a candidate
        if self.style == "dict":
            return {"features": h[:, :, None], "aux": aux, "logits": main}
        return SimpleNamespace(aux=aux, scores=main)


@pytest.mark.parametrize("style,default,other,classes", [
    ("tuple", "1", "2", (7, 3)), ("dict", "logits", "aux", (3, 7)), ("object", "aux", "scores",
                                                                     (7, 3))])
def test_tuple_dict_object_outputs(tmp_path, style, default, other, classes):
    path = tmp_path / "heads.ts"
    torch.save(TwoHeads(style), path)  # pickled: needs trust
    opts = {"trust": True, "input_size": 16}
    model = load_model(str(path), checkpoint=CheckpointOptions(**opts))
    assert model.output == default and model.num_classes == classes[0]
    assert other in model.output_candidates and len(model.output_candidates) == 2
    chosen = load_model(str(path), checkpoint=CheckpointOptions(output=other, **opts))
    assert chosen.output == other and chosen.num_classes == classes[1]
    assert chosen.module(torch.rand(2, 3, 16, 16)).shape == (2, classes[1])
    with pytest.raises(ModelLoadError, match="no output 'nope'.*" + other):
        load_model(str(path), checkpoint=CheckpointOptions(output="nope", **opts))


def test_multi_label_option_for_a_checkpoint(tmp_path, resnet_state):
    from workbench.core.predict import predict_pixels

    path = tmp_path / "ckpt.pth"
    torch.save(resnet_state, path)
    model = load_model(str(path), checkpoint=CheckpointOptions(arch="resnet18",
                                                               multi_label=True, input_size=64))
    assert model.multi_label
    x = torch.rand(1, 3, 64, 64)
    prediction = predict_pixels(model, x, topk=10)
    with torch.no_grad():
        expected = torch.sigmoid(model.module(x))[0].numpy()
    assert prediction.probs == pytest.approx(expected, abs=1e-6)
    assert abs(prediction.probs.sum() - 1) > 1e-3
