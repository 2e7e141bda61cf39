"""Batch analyses over a folder: the same summary here and on a real Dask cluster, one
result per input, and a rerun skips what is done."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.cli.batch import write_summary
from workbench.core.embedding import digits_dataset, folder_dataset
from workbench.core.remote.batch import BatchParams, run_batch

SPEC = "digits_lenet"


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """Six digits written as 32×32 PNGs."""
    from workbench.io.export import save_png

    folder = tmp_path_factory.mktemp("digits-png")
    digits = digits_dataset()
    for i in range(6):
        save_png(folder / f"d{i}.png", np.kron(digits.load(i), np.ones((4, 4, 1))))
    return folder_dataset(folder)


def _same_summary(a: dict, b: dict):
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == pytest.approx(b[key], abs=1e-4), key


@pytest.mark.parametrize("analysis", ["cam", "attack"])
def test_batch_here_and_on_the_cluster_agree_and_resume(analysis, pictures, client, tmp_path):
    params = BatchParams(eps=(2 / 255, 32 / 255))
    here = run_batch(analysis, SPEC, pictures, tmp_path / "here", params, device="cpu")
    there = run_batch(analysis, SPEC, pictures, tmp_path / "there", params, client)
    assert here.computed == there.computed == 6 and not here.failed
    _same_summary(write_summary(tmp_path / "here", here, SPEC)["summary"],
                  write_summary(tmp_path / "there", there, SPEC)["summary"])
    outputs = {"cam": ("maps/*.npy", "overlays/*.png"), "attack": ("adversarial/*.png",)}
    per_input = {"cam": 1, "attack": 2}[analysis]
    for pattern in outputs[analysis]:
        assert len(list((tmp_path / "there").glob(pattern))) == 6 * per_input
    for name in ("inputs.csv", "summary.csv", "summary.png"):
        assert (tmp_path / "there" / name).stat().st_size > 0
    again = run_batch(analysis, SPEC, pictures, tmp_path / "there", params, client)
    assert (again.reused, again.computed) == (6, 0) and len(again.rows) == 6


def test_batch_command_resumes_and_says_so(pictures, tmp_path, capsys):
    from workbench.cli import main

    argv = ["batch", "attack", pictures.source, "--model", SPEC, "--device", "cpu",
            "--out", str(tmp_path), "--eps", "8/255", "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    (tmp_path / "rows" / "00002_d2.json").unlink()  # as if interrupted before input 2
    assert main(argv) == 0
    second = json.loads(capsys.readouterr().out)
    assert (first["computed"], second["computed"], second["skipped_done"]) == (6, 1, 5)
    assert first["summary"] == second["summary"]
    assert "eps8.00of255_success_rate" in second["summary"]
