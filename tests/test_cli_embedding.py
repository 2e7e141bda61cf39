"""``workbench embed`` and ``workbench neighbors`` through argparse (fast: digits + PCA)."""

import json

import numpy as np
import pytest
from PIL import Image

from workbench.cli import OneLineParser, add_model_options
from workbench.cli.embedding import COMMANDS, add_parsers
from workbench.errors import WorkbenchError


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "feature-cache"))


def run(*argv):
    parser = OneLineParser(prog="workbench")
    add_parsers(parser.add_subparsers(dest="command", parser_class=OneLineParser),
                add_model_options)
    args = parser.parse_args([str(a) for a in argv])
    return COMMANDS[args.command](args)


def run_json(capsys, *argv):
    assert run(*argv, "--json") == 0
    return json.loads(capsys.readouterr().out)


def test_embed_digits_saves_map_and_arrays(tmp_path, capsys):
    out, save = tmp_path / "map.png", tmp_path / "emb.npz"
    summary = run_json(capsys, "embed", "digits", "--method", "pca", "--out", out,
                       "--save", save)
    assert summary["model"] == "digits_lenet" and summary["layer"] == "relu4"
    assert summary["points"] == 1797 and summary["feature_dim"] == 84
    assert summary["skipped"] == [] and not summary["from_cache"]
    assert summary["label_names"] == [str(d) for d in range(10)]
    assert 0.6 < summary["knn5_accuracy"] <= 1.0
    with np.load(save) as data:
        assert data["features"].shape == (1797, 84) and data["features"].dtype == np.float32
        assert data["coords"].shape == (1797, 2)
        assert data["labels"].shape == (1797,) and set(data["labels"]) == set(range(10))
        assert data["paths"][0] == "digits[0]"
    with Image.open(out) as image:
        assert image.width > 1200 and "PCA" in image.info["Title"]
        assert "digits_lenet" in image.info["Caption"]
        colours = {c for _, c in image.convert("RGB").getcolors(1 << 20)}
    assert (31, 119, 180) in colours and (23, 190, 207) in colours  # labels 0 and 9
    again = run_json(capsys, "embed", "digits", "--method", "pca", "--param", "whiten=true")
    assert again["from_cache"] and again["params"]["whiten"] is True


def test_embed_a_folder_lists_bad_files(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        for i in range(3):
            (tmp_path / "data" / label).mkdir(parents=True, exist_ok=True)
            pixels = rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "data" / label / f"{i}.png")
    (tmp_path / "data" / "b" / "bad.jpg").write_bytes(b"not a jpeg")
    summary = run_json(capsys, "embed", tmp_path / "data", "--model", "digits_lenet",
                       "--method", "pca")
    assert summary["points"] == 6 and summary["label_names"] == ["a", "b"]
    assert [r["path"].endswith("bad.jpg") for r in summary["skipped"]] == [True]


def test_neighbors_of_a_digit_are_that_digit(tmp_path, capsys):
    from workbench.core.models.digits_data import digits_images

    images, labels = digits_images()
    query = tmp_path / "seven.png"
    index = int(np.flatnonzero(labels == 7)[0])
    Image.fromarray((images[index] * 255).round().astype(np.uint8)).save(query)
    result = run_json(capsys, "neighbors", query, "digits", "-k", "5", "--metric", "cosine")
    rows = result["neighbors"]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["path"] == f"digits[{index}]" and rows[0]["distance"] < 1e-3
    assert all(r["label"] == "7" for r in rows)
    assert run("neighbors", query, "digits", "-k", "3", "--metric", "euclidean") == 0
    assert f"digits[{index}]" in capsys.readouterr().out.splitlines()[0]


@pytest.mark.parametrize("argv,message", [
    (["embed", "nowhere"], "not a folder, a video"),
    (["embed", "digits", "--param", "perplexity=5"], "pca parameters are"),
    (["embed", "digits", "--layer", "nope"], "no layer 'nope'"),
    (["neighbors", "QUERY", "digits", "-k", "0"], "-k must be at least 1"),
    (["neighbors", "missing.png", "digits"], "file not found"),
])
def test_user_mistakes_are_workbench_errors(tmp_path, argv, message):
    query = tmp_path / "q.png"
    Image.new("RGB", (8, 8)).save(query)
    argv = [str(query) if a == "QUERY" else a for a in argv]
    if argv[0] == "embed":
        argv += ["--method", "pca"]
    with pytest.raises(WorkbenchError, match=message):
        run(*argv)
