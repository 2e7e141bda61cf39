"""``workbench inspect`` and ``workbench conv``: the table and its JSON, the students'
convolution question answered with its formulas, and bad input in one line."""

import json

import pytest

from workbench.cli import main

LITTLE = "digits_lenet"  # a fast built-in model


def test_inspect_json(capsys):
    assert main(["inspect", "--model", "resnet18:random", "--input-size", "160,128",
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["model"] == "resnet18:random" and summary["input_shape"] == [1, 3, 160, 128]
    layers = {row["name"]: row for row in summary["layers"]}
    conv1 = layers["conv1"]
    assert conv1["output_shape"] == [1, 64, 80, 64] and conv1["kernel"] == [7, 7]
    assert conv1["rf"] == {"size": [7, 7], "jump": [2, 2], "start": [0.0, 0.0]}
    assert conv1["formulas"]["params"] == "7·7·3/1·64 + 0 = 9 408"
    assert layers["layer4"]["rf"]["size"] == [435, 435]
    assert layers["fc"]["rf"] is None and layers["fc"]["rf_note"]
    assert summary["totals"]["params_trainable"] == 11_689_512
    assert set(conv1) >= {"params_frozen", "macs", "activation_bytes", "stride", "padding",
                          "dilation", "groups", "input_shape", "depth", "type_name"}


def test_inspect_table(capsys):
    assert main(["inspect", "--model", LITTLE]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{LITTLE}: input ")
    assert lines[1].split() == ["layer", "type", "output", "params", "MACs", "RF", "r", "/", "j"]
    assert lines[-1].startswith("total: ") and "parameters" in lines[-1]
    assert len(lines) > 5


def test_conv_text(capsys):
    assert main(["conv", "28", "28", "1", "--kernel", "7", "--out", "1", "--stride", "3"]) == 0
    out = capsys.readouterr().out
    assert "8×8×1" in out and "⌊(28 − 7 + 2·0)/3⌋ + 1 = 8" in out
    assert "64×784" in out and "784×64" in out and "3 136" in out


def test_conv_json(capsys):
    assert main(["conv", "28", "28", "1", "--kernel", "5", "--out", "16", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["params"] == 416 and answer["output"] == [24, 24, 16]
    assert answer["matrix_shape"] == [24 * 24 * 16, 784] and answer["receptive_field"] == 5
    assert "416" in answer["formulas"]["params"]


@pytest.mark.parametrize("argv, message", [
    (["conv", "4", "4", "1", "--kernel", "7", "--out", "1"], "does not fit"),
    (["conv", "28", "28", "1", "--kernel", "3", "--out", "1", "--stride", "0"], "stride"),
    (["inspect", "--model", "no_such_model"], "no_such_model")])
def test_bad_input_is_one_line(capsys, argv, message):
    """A bad value is one line of error (exit status 1)."""
    assert main(argv) == 1
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_bad_input_size_is_a_usage_error(capsys):
    """``--input-size`` is parsed by argparse: status 2 and one line naming the option."""
    with pytest.raises(SystemExit) as stop:
        main(["inspect", "--model", LITTLE, "--input-size", "abc"])
    error = capsys.readouterr().err
    assert stop.value.code == 2 and "--input-size" in error and error.count("\n") == 1
