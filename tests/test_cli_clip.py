"""``--prompts`` / ``--template`` on every command with a ``clip:`` model (random weights,
the real tokenizer, a tiny open_clip config)."""

from __future__ import annotations

import json

import pytest

from tests.tiny_clip import tiny_clip_dir
from workbench.cli import main
from workbench.io.samples import sample_path


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return f"clip:{tiny_clip_dir(tmp_path_factory.mktemp('tiny_clip'))}:random"


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_predict_ranks_the_prompts(capsys, spec):
    code, out, _ = run(capsys, "predict", sample_path("chelsea"), "--model", spec,
                       "--prompts", "a cat, a dog", "--json")
    rows = json.loads(out)
    assert code == 0 and sorted(r["label"] for r in rows) == ["a cat", "a dog"]
    assert rows[0]["prob"] >= rows[1]["prob"] and abs(sum(r["prob"] for r in rows) - 1) < 1e-5


def test_prompts_file_and_template(capsys, spec, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("an apple\nan iPod\n\na car\n", encoding="utf-8")
    code, out, _ = run(capsys, "predict", sample_path("coffee"), "--model", spec,
                       "--prompts", prompts, "--template", "", "--json")
    assert code == 0 and {r["label"] for r in json.loads(out)} == {"an apple", "an iPod", "a car"}


def test_cam_and_attack_toward_a_prompt(capsys, spec, tmp_path):
    code, out, _ = run(capsys, "cam", sample_path("chelsea"), "--method", "gradcam",
                       "--model", spec, "--prompts", "a cat,a dog", "--target", 1,
                       "--out", tmp_path / "cam.png", "--json")
    cam = json.loads(out)
    assert code == 0 and cam["label"] == "a dog" and cam["map_range"][1] > cam["map_range"][0]
    code, out, _ = run(capsys, "attack", sample_path("chelsea"), "--method", "pgd",
                       "--model", spec, "--prompts", "a cat,a dog", "--target", 1, "--json")
    attack = json.loads(out)
    assert code == 0 and attack["target"]["label"] == "a dog" and attack["success"]


def test_clip_without_prompts_and_prompts_without_clip(capsys, spec):
    code, _, err = run(capsys, "predict", sample_path("chelsea"), "--model", spec)
    assert code != 0 and "--prompts" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "predict", sample_path("chelsea"), "--prompts", "a,b")
    assert code != 0 and "clip:" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "predict", sample_path("chelsea"), "--model", spec,
                       "--prompts", "a cat", "--template", "a photo")
    assert code != 0 and "{}" in err
