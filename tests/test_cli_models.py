"""Model options on the command line: safetensors with --arch timm:NAME, Hugging Face
folders and hub names offline, --mean / --std, --labels on a named model, --code,
--output and --multi-label."""

from __future__ import annotations

import json
import sys

import pytest

from tests.helpers import pickle_from_code
from workbench.cli import main
from workbench.io.samples import sample_path


def predict(capsys, *args):
    code = main(["predict", str(sample_path("coffee")), "--json", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_safetensors_with_timm_arch(tmp_path, capsys):
    timm = pytest.importorskip("timm")
    from safetensors.torch import save_file

    path = tmp_path / "weights.safetensors"
    save_file(timm.create_model("resnet18", num_classes=10).state_dict(), str(path))
    code, out, err = predict(capsys, "--model", path, "--arch", "timm:resnet18",
                             "--num-classes", "10", "--topk", "10", "--input-size", "64")
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 10 and abs(sum(r["prob"] for r in rows) - 1) < 1e-4


def test_non_square_input_size_reaches_the_model(tmp_path, capsys):
    """``--input-size 48,64`` on a state dict: the model takes 48 × 64 pixels, and predict
    runs at that size."""
    import torchvision
    from safetensors.torch import save_file

    from workbench.cli import build_parser, common

    path = tmp_path / "weights.safetensors"
    save_file(torchvision.models.resnet18(num_classes=4).state_dict(), str(path))
    options = ["--model", str(path), "--arch", "resnet18", "--num-classes", "4",
               "--input-size", "48,64"]
    model = common.load_cli_model(build_parser().parse_args(["predict", "x.png", *options]))
    assert model.input_size == (48, 64)
    code, out, err = predict(capsys, *options, "--topk", 4)
    assert code == 0, err
    assert len(json.loads(out)) == 4


def test_hf_folder_multi_label_and_offline_hub_name(tmp_path, capsys, monkeypatch):
    transformers = pytest.importorskip("transformers")
    folder = tmp_path / "tiny"
    config = transformers.ViTConfig(
        image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=64, num_labels=3,
        id2label={0: "red", 1: "green", 2: "blue"}, label2id={"red": 0, "green": 1, "blue": 2},
        problem_type="multi_label_classification")
    transformers.ViTForImageClassification(config).save_pretrained(folder)
    code, out, err = predict(capsys, "--model", folder, "--topk", "3")
    assert code == 0, err
    rows = json.loads(out)
    assert {r["label"] for r in rows} == {"red", "green", "blue"}
    assert all(0 < r["prob"] < 1 for r in rows) and abs(sum(r["prob"] for r in rows) - 1) > 1e-3

    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    code, out, err = predict(capsys, "--model", "hf:nobody/absent-model")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "nobody/absent-model" in err and "--download" in err


def test_mean_std_must_be_three_numbers(capsys):
    with pytest.raises(SystemExit) as info:
        main(["predict", "x.png", "--mean", "0.5,0.5"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--mean" in err and "R,G,B" in err


def test_labels_on_a_named_model_are_applied_or_refused(tmp_path, capsys):
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\nc\n")
    code, _out, err = predict(capsys, "--model", "resnet18:random", "--labels", labels)
    assert code == 1 and "3 lines but the model has 1000 classes" in err
    labels.write_text("".join(f"thing {i}\n" for i in range(1000)))
    code, out, err = predict(capsys, "--model", "resnet18:random", "--labels", labels,
                             "--mean", "0.5,0.5,0.5", "--std", "0.5,0.5,0.5", "--input-size", 64)
    assert code == 0, err
    assert json.loads(out)[0]["label"].startswith("thing ")


NETS = """
    import torch
    from torch import nn

    class Heads(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.a = nn.Linear(4, 2)
            self.b = nn.Linear(4, 6)

        def forward(self, x):
            h = self.conv(x).mean((2, 3))
            return {"a": self.a(h), "b": self.b(h)}
"""


def test_code_folder_and_output_choice(tmp_path, capsys, monkeypatch):
    code_dir, path = pickle_from_code(tmp_path, monkeypatch, "clinets_wb_test", NETS, "Heads",
                                      file="heads.pt")
    base = ["--model", path, "--input-size", 16, "--topk", 10]
    code, _out, err = predict(capsys, *base, "--trust")
    assert code == 1 and "--code" in err and err.count("\n") == 1
    code, out, err = predict(capsys, *base, "--trust", "--code", code_dir)
    assert code == 0, err
    assert len(json.loads(out)) == 2  # the first (N, K) output: "a"
    code, out, err = predict(capsys, *base, "--trust", "--code", code_dir, "--output", "b",
                             "--multi-label")
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 6 and abs(sum(r["prob"] for r in rows) - 1) > 1e-3
    sys.modules.pop("clinets_wb_test", None)


def test_compile_turned_off_says_so_and_predicts_eagerly(capsys, monkeypatch):
    """``--compile`` with ``WORKBENCH_COMPILE=0``: one line on stderr, the same prediction."""
    monkeypatch.setenv("WORKBENCH_COMPILE", "0")
    code, out, err = predict(capsys, "--model", "digits_lenet", "--compile", "--topk", 3)
    assert code == 0 and "runs eagerly: off" in err
    _, plain, _ = predict(capsys, "--model", "digits_lenet", "--topk", 3)
    assert json.loads(out) == json.loads(plain)
