"""The command line: JSON output, saved inputs, one-line errors, screenshots."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from workbench.cli import main, normalize_argv
from workbench.io.samples import sample_path


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "workbench", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def test_predict_json_and_saved_input(tmp_path, capsys):
    saved = tmp_path / "x.npy"
    code = main(["predict", str(sample_path("coffee")), "--json", "--topk", "3",
                 "--save-input", str(saved)])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [set(r) for r in rows] == [{"index", "label", "prob"}] * 3
    assert rows[0]["label"] == "espresso" and rows[0]["index"] == 967
    assert rows[0]["prob"] >= rows[1]["prob"] >= rows[2]["prob"]
    x = np.load(saved)
    assert x.shape == (1, 3, 224, 224) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0


def test_predict_with_the_digits_model(capsys):
    assert main(["predict", str(sample_path("camera")), "--model", "digits_lenet"]) == 0
    assert "%" in capsys.readouterr().out


def test_models_json_lists_builtins_offline(capsys):
    assert main(["models", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["efficientnet_lite0"]["offline"] and rows["digits_lenet"]["offline"]
    assert rows["r3d_18"]["kind"] == "video"
    assert {"resnet50", "vit_b_16", "vgg16", "resnext50_32x4d"} <= set(rows)


@pytest.mark.parametrize("args,fragment", [
    (["predict", "missing.png"], "missing.png': file not found"),
    (["predict", "IMAGE", "--model", "nonsense"], "Unknown model 'nonsense'"),
    (["predict", "IMAGE", "--topk", "0"], "--topk must be at least 1"),
    (["predict", "IMAGE", "--device", "cuda:7"], "not available"),
    (["predict"], "the following arguments are required"),
])
def test_user_errors_are_one_line_without_traceback(tmp_path, args, fragment):
    image = tmp_path / "img.png"
    Image.new("RGB", (8, 8)).save(image)
    out = run_cli(*[str(image) if a == "IMAGE" else a for a in args])
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert fragment in lines[0] and "Traceback" not in out.stderr


def test_bad_image_through_the_cli(tmp_path):
    bad = tmp_path / "truncated.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 20)
    out = run_cli("predict", bad)
    assert out.returncode == 1
    assert str(bad) in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_argv_defaults_to_the_gui():
    assert normalize_argv([]) == ["gui"]
    assert normalize_argv(["a.png"]) == ["gui", "a.png"]
    assert normalize_argv(["predict", "a.png"]) == ["predict", "a.png"]
    assert normalize_argv(["--session", "s.wbsession"]) == ["gui", "--session", "s.wbsession"]
    assert normalize_argv(["--version"]) == ["--version"]


def test_screenshot_of_the_real_window(tmp_path):
    out = tmp_path / "shot.png"
    result = run_cli("screenshot", out, sample_path("coffee"), "--size", "1024x700")
    assert result.returncode == 0, result.stderr
    image = Image.open(out)
    assert image.size == (1024, 700)
    pixels = np.asarray(image.convert("RGB"))
    assert pixels.std() > 20  # not a blank window


def test_screenshot_of_a_lesson(tmp_path):
    """--lesson opens the lesson first: its dock is in the picture (right of the tabs)."""
    out = tmp_path / "quiz.png"
    result = run_cli("screenshot", out, "--lesson", "conv-quiz", "--size", "1024x700")
    assert result.returncode == 0, result.stderr
    plain = tmp_path / "plain.png"
    assert run_cli("screenshot", plain, "--tab", "inspector", "--size", "1024x700"
                   ).returncode == 0
    shot, base = (np.asarray(Image.open(p).convert("L"), dtype=float) for p in (out, plain))
    assert np.abs(shot[:, -200:] - base[:, -200:]).mean() > 5  # the Lesson dock is there
    wrong = run_cli("screenshot", tmp_path / "x.png", "--lesson", "nope")
    assert wrong.returncode == 1 and "conv-quiz" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_cam_json_map_and_overlay(tmp_path, capsys):
    out, raw = tmp_path / "overlay.png", tmp_path / "map.npy"
    saved = tmp_path / "x.npy"
    code = main(["cam", str(sample_path("chelsea")), "--method", "gradcam++", "--json",
                 "--faithfulness", "--out", str(out), "--save-map", str(raw),
                 "--save-input", str(saved)])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["label"] == "Egyptian cat" and summary["target"] == 285
    assert summary["layer"] == "_act1" and summary["method"] == "gradcam++"
    assert summary["map_shape"] == [224, 224]
    assert 0 <= summary["deletion_auc"] <= 1 and 0 <= summary["insertion_auc"] <= 1
    heat = np.load(raw)
    assert heat.shape == (224, 224) and heat.dtype == np.float32 and heat.max() > 0
    assert np.load(saved).shape == (1, 3, 224, 224)
    assert "Grad-CAM++" in Image.open(out).text["Caption"]


def test_cam_target_layer_and_params(capsys):
    code = main(["cam", str(sample_path("coffee")), "--method", "smoothgrad", "--target", "3",
                 "--param", "samples=2", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["target"] == 3 and summary["layer"] is None


@pytest.mark.parametrize("args,fragment", [
    (["--method", "attention-rollout"], "nn.MultiheadAttention"),
    (["--method", "gradcam", "--layer", "nope"], "no layer 'nope'"),
    (["--method", "gradcam", "--target", "5000"], "outside 0 … 999"),
    (["--method", "scorecam", "--param", "batch_size=0"], "at least 1"),
])
def test_cam_user_errors(args, fragment):
    out = run_cli("cam", sample_path("chelsea"), *args)
    assert out.returncode == 1
    assert fragment in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_occlusion_grid_json_and_overlay(tmp_path, capsys):
    grid, out = tmp_path / "grid.npy", tmp_path / "occ.png"
    code = main(["occlusion", str(sample_path("chelsea")), "--window", "56", "--stride", "56",
                 "--fill", "mean", "--save-grid", str(grid), "--out", str(out), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["grid_shape"] == [4, 4] and summary["label"] == "Egyptian cat"
    values = np.load(grid)
    assert values.shape == (4, 4) and values.dtype == np.float32
    assert summary["min_prob"] == pytest.approx(float(values.min()))
    figure = Image.open(out)
    assert "window = 56" in figure.text["Caption"] and "Occlusion" in figure.text["Title"]
    assert json.loads(figure.text["Provenance"])["params"]["stride"] == 56
    assert summary["map_units"] == "drop in p(Egyptian cat)" and "warning" not in summary


def test_a_constant_map_warns_instead_of_a_silent_blank(tmp_path, capsys):
    from workbench.cli import common

    summary = common.map_summary(np.zeros((224, 224), np.float32), "attribution value")
    assert summary["warning"] == "the map is constant (attribution value = 0 everywhere)"
    common.warn(summary)
    assert "warning: the map is constant" in capsys.readouterr().err
    assert "warning" not in common.map_summary(np.eye(4, dtype=np.float32), "value")


def test_occlude_with_a_painted_mask(tmp_path, capsys):
    from workbench.io.masks import save_mask

    mask = np.zeros((300, 300), bool)
    mask[:, :] = True
    path = tmp_path / "all.png"
    save_mask(path, mask)
    code = main(["occlude", str(sample_path("chelsea")), "--mask", str(path), "--fill", "0",
                 "--json", "--topk", "3"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["before"][0]["label"] == "Egyptian cat"
    assert len(result["after"]) == 3 and result["after"][0]["label"] != "Egyptian cat"
    assert {"index", "label", "prob", "base", "delta"} <= set(result["after"][0])


@pytest.mark.parametrize("args,fragment", [
    (["occlusion", "IMAGE", "--fill", "purple"], "fill must be"),
    (["occlusion", "IMAGE", "--window", "500"], "larger than"),
    (["occlusion", "IMAGE", "--stride", "0"], "stride must be at least 1"),
    (["occlude", "IMAGE", "--mask", "nothere.png"], "nothere.png"),
])
def test_occlusion_user_errors(tmp_path, args, fragment):
    image = tmp_path / "img.png"
    Image.new("RGB", (64, 64)).save(image)
    out = run_cli(*[str(image) if a == "IMAGE" else a for a in args])
    assert out.returncode == 1, out.stderr
    assert fragment in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_featviz_json_and_recipe(tmp_path, capsys):
    out = tmp_path / "unit.png"
    code = main(["featviz", "--model", "digits_lenet", "--layer", "conv2", "--channel", "3",
                 "--steps", "12", "--size", "32", "--batch", "2", "--diversity", "1",
                 "--out", str(out), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert len(summary["objective_start"]) == 2
    assert np.mean(summary["objective_end"]) > np.mean(summary["objective_start"])
    recipe = json.loads(Image.open(out).text["Recipe"])
    assert recipe["objective"].startswith("(channel conv2:3") and recipe["steps"] == 12
    assert Image.open(out).size == (64, 32)


@pytest.mark.parametrize("args,fragment", [
    (["featviz", "--layer", "nope", "--channel", "1"], "no layer 'nope'"),
    (["featviz", "--layer", "_blocks.10", "--neuron", "1,2"], "--neuron must be C,X,Y"),
    (["featviz", "--deepdream", "--channel", "3"], "not allowed with"),
])
def test_featviz_user_errors(args, fragment):
    out = run_cli(*args)
    assert out.returncode != 0
    assert fragment in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_outputs_are_never_overwritten_without_asking(tmp_path):
    existing = tmp_path / "x.npy"
    existing.write_bytes(b"precious")
    out = run_cli("predict", sample_path("coffee"), "--save-input", existing)
    assert out.returncode == 1 and "--overwrite" in out.stderr
    assert existing.read_bytes() == b"precious"
    out = run_cli("predict", sample_path("coffee"), "--save-input", existing, "--overwrite")
    assert out.returncode == 0 and np.load(existing).shape == (1, 3, 224, 224)


def test_a_closed_pipe_is_a_normal_exit():
    """``workbench models --json | head -1`` ends quietly."""
    command = f"{sys.executable} -m workbench models --json | head -1"
    result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "["
    assert "BrokenPipe" not in result.stderr and "internal error" not in result.stderr


def test_slow_commands_show_progress_on_a_terminal_only():
    import io

    from workbench.cli.common import TerminalProgress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen, pipe = Terminal(), io.StringIO()
    for stream in (screen, pipe):
        printer = TerminalProgress(stream)
        printer(0.25, "Score-CAM 8/32")
        printer(1.0, "Score-CAM 32/32")
        printer.close()
    assert "25%  Score-CAM 8/32" in screen.getvalue() and "100%" in screen.getvalue()
    assert screen.getvalue().endswith("\r") and pipe.getvalue() == ""
