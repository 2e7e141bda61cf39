"""``workbench attack`` / ``workbench patch`` through their own argparse wiring
(``add_parsers`` + ``COMMANDS``), as workbench.cli will call them."""

import argparse
import json

import numpy as np
import pytest
from PIL import Image

import workbench.cli.common
from workbench.cli import OneLineParser, add_model_options
from workbench.cli.adversarial import (
    COMMANDS,
    add_parsers,
    load_patch,
    parse_fraction,
    parse_target,
)
from workbench.errors import WorkbenchError
from workbench.io.samples import sample_path


def run(*argv):
    parser = OneLineParser(prog="workbench")
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    add_parsers(sub, add_model_options)
    args = parser.parse_args([str(a) for a in argv])
    return COMMANDS[args.command](args)


@pytest.fixture
def cached_model(monkeypatch, lite0):
    """Skip reloading EfficientNet-Lite0 for every command."""
    monkeypatch.setattr(workbench.cli.common, "load_cli_model", lambda args: lite0)
    return lite0


def test_fractions_and_targets_parse():
    assert parse_fraction("8/255") == pytest.approx(8 / 255)
    assert parse_fraction(" 0.5 ") == 0.5
    assert parse_target("least-likely") == "least-likely" and parse_target("859") == 859
    for bad in ("8/0", "x", "-1/255"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_fraction(bad)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_target("toaster")


def test_attack_json_saves_png_and_tensors(tmp_path, capsys):
    out, x_file, adv_file = tmp_path / "adv.png", tmp_path / "x.npy", tmp_path / "adv.npy"
    code = run("attack", sample_path("chelsea"), "--method", "fgsm", "--eps", "8/255",
               "--out", out, "--save-input", x_file, "--save-adv", adv_file, "--json")
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["before"]["label"] == "Egyptian cat" and summary["method"] == "fgsm"
    assert summary["after"]["index"] != summary["before"]["index"] and summary["success"]
    assert summary["linf_255"] == pytest.approx(8.0, abs=1e-3)
    assert summary["params"] == {"eps": pytest.approx(8 / 255)}
    eight = summary["eight_bit"]
    assert eight["source"] == "png" and eight["path"] == str(out)
    assert isinstance(eight["fools"], bool) and eight["linf_255"] <= 8.5 + 1e-3
    assert Image.open(out).size == (224, 224)
    x, adv = np.load(x_file), np.load(adv_file)
    assert x.shape == adv.shape == (1, 3, 224, 224) and adv.dtype == np.float32
    assert np.abs(adv - x).max() <= 8 / 255 + 1e-6 and 0 <= adv.min() and adv.max() <= 1


def test_targeted_pgd_in_memory_8_bit_check(cached_model, capsys):
    code = run("attack", sample_path("coffee"), "--method", "pgd", "--eps", "4/255",
               "--step-size", "1/255", "--steps", "6", "--target", "least-likely", "--json")
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["targeted"] and summary["target"]["index"] >= 0
    assert summary["params"]["steps"] == 6 and summary["steps_run"] == 6
    assert summary["eight_bit"]["source"] == "8-bit in memory"
    assert summary["linf_255"] <= 4 + 1e-3


def test_text_output_and_param_flags(cached_model, capsys):
    assert run("attack", sample_path("coffee"), "--method", "deepfool", "--param",
               "steps=3") == 0
    text = capsys.readouterr().out
    assert "deepfool: espresso" in text and "as 8-bit" in text


@pytest.mark.parametrize("argv,fragment", [
    (["--method", "fgsm", "--steps", "3"], "FGSM has no parameter steps"),
    (["--method", "nonsense"], "unknown attack"),
    ([], "--method is required"),
    (["--method", "pgd", "--param", "bogus=1"], "pgd parameters are"),
    (["--method", "pgd", "--target", "5000"], "outside 0"),
    (["--method", "pgd", "--patch", "p.png"], "either --method or --patch"),
])
def test_user_mistakes_are_workbench_errors(cached_model, argv, fragment):
    with pytest.raises(WorkbenchError, match=fragment):
        run("attack", sample_path("coffee"), *argv)


def test_bad_fraction_is_a_one_line_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run("attack", "img.png", "--method", "pgd", "--eps", "8/zero")
    assert exit_info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_patch_round_trip_train_save_and_paste(cached_model, tmp_path, capsys):
    folder = tmp_path / "images"
    folder.mkdir()
    for name in ("chelsea", "rocket"):
        Image.open(sample_path(name)).convert("RGB").save(folder / f"{name}.png")
    patch_file = tmp_path / "patch.png"
    assert run("patch", "--target", 859, "--images", folder, "--size", 24, "--steps", 2,
               "--param", "batch_size=2", "--out", patch_file, "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["label"] == "toaster" and summary["images"] == 2 and summary["steps"] == 2
    assert 0 <= summary["target_prob_clean"] <= 1 and 0 <= summary["target_prob_patched"] <= 1
    saved = Image.open(patch_file)
    assert saved.mode == "RGBA" and saved.size == (24, 24)
    patch, mask, target = load_patch(patch_file)
    assert target == 859 and patch.shape == (3, 24, 24) and mask.shape == (1, 24, 24)
    assert mask[0, 0, 0] == 0 and mask[0, 12, 12] == 1  # round: transparent corners

    out, adv_file = tmp_path / "pasted.png", tmp_path / "pasted.npy"
    assert run("attack", sample_path("china"), "--patch", patch_file, "--at", "10,20",
               "--out", out, "--save-adv", adv_file, "--json") == 0
    applied = json.loads(capsys.readouterr().out)
    assert applied["patch_target"]["index"] == 859 and applied["at"] == [10.0, 20.0]
    assert {"prob_before", "prob_after"} <= set(applied["patch_target"])
    pasted = np.load(adv_file)[0]
    np.testing.assert_allclose(pasted[:, 32, 22], patch[:, 12, 12].numpy(), atol=1e-5)
    assert Image.open(out).size == (224, 224)


def test_patch_errors(cached_model, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(WorkbenchError, match="no images"):
        run("patch", "--target", 1, "--images", empty, "--out", tmp_path / "p.png")
    with pytest.raises(WorkbenchError, match="shape must be one of"):
        run("patch", "--target", 1, "--images", sample_path("coffee"), "--shape", "star",
            "--out", tmp_path / "p.png")
    with pytest.raises(WorkbenchError, match="file not found"):
        run("attack", sample_path("coffee"), "--patch", tmp_path / "missing.png")
