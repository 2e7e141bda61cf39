"""Interactive jobs on a real LocalCluster: the same results as here, progress and partial
results on the way, cancel within a second, refusals and a lost worker said plainly."""

from __future__ import annotations

import functools
import json
import os
import signal
import threading
import time

import numpy as np
import pytest

from workbench.core.jobs import PlainContext
from workbench.core.occlusion.sliding import OcclusionParams, occlusion_map
from workbench.core.preprocess import model_input
from workbench.core.remote import cluster as cluster_module
from workbench.core.remote.cluster import ClusterError
from workbench.core.remote.interactive import RemoteExecutor
from workbench.core.remote.refs import ModelRef, to_refs
from workbench.errors import Cancelled
from workbench.io.samples import sample_path
from workbench.ui.tabs.attribution.jobs import map_job


@pytest.fixture(scope="module")
def digits():
    from workbench.core.models import load_model

    return load_model("digits_lenet")


@pytest.fixture(scope="module")
def picture():
    from workbench.io.images import load_image

    return load_image(sample_path("chelsea"))


@pytest.fixture(scope="module")
def executor(client):
    return RemoteExecutor(client)


def long_sweep(model, picture):
    """An occlusion sweep of many small batches (seconds of work, a check per batch)."""
    x = model_input(model, picture)
    return functools.partial(occlusion_map, model, x, "grey", None,
                             OcclusionParams(window=4, stride=1, batch_size=1))


def test_refs_replace_models_and_gradcam_equals_local(executor, digits, picture):
    job = functools.partial(map_job, digits, picture, "gradcam", None, None, {})
    shipped = to_refs(job)
    size = len(pytest.importorskip("cloudpickle").dumps(shipped)) - picture.nbytes
    assert isinstance(shipped.args[0], ModelRef) and size < 20_000  # the model never travels
    remote = executor.run(job, PlainContext())
    local = job(PlainContext())
    assert np.array_equal(remote.heat, local.heat) and remote.target == local.target
    assert remote.top == local.top
    again = executor.run(job, PlainContext())
    assert np.array_equal(again.heat, local.heat)
    assert executor.stats()["loads"] == 1  # once per actor, not per click


def test_runner_backend_relays_progress_and_partials(qtbot, executor, digits, picture):
    from workbench.worker import Runner

    runner = Runner("remote-test-worker")
    runner.set_backend(executor)
    seen = {"progress": [], "partial": [], "finished": []}
    params = OcclusionParams(window=8, stride=4, batch_size=7)
    job = functools.partial(occlusion_map, digits, model_input(digits, picture), "grey", None,
                            params)
    try:
        runner.submit(job, key="occlusion",
                      on_progress=lambda f, m: seen["progress"].append(f),
                      on_partial=seen["partial"].append, on_finished=seen["finished"].append)
        qtbot.waitUntil(runner.is_idle, timeout=20_000)
    finally:
        assert runner.shutdown(2.0)
    local = job(PlainContext())
    assert seen["finished"] and len(seen["partial"]) >= 3 and seen["progress"][-1] == 1.0
    assert [p.done for p in seen["partial"]] == sorted(p.done for p in seen["partial"])
    # batched convolutions on a 1-thread Dask worker round differently in the last bit
    np.testing.assert_allclose(seen["finished"][0].target_prob, local.target_prob, atol=1e-6)


def test_cancel_reaches_the_remote_job_within_a_second(executor, digits, picture):
    ctx = PlainContext()
    partials = []
    ctx._on_partial = partials.append
    outcome = {}

    def run():
        try:
            outcome["result"] = executor.run(long_sweep(digits, picture), ctx)
        except Cancelled:
            outcome["cancelled"] = time.perf_counter()

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 20
    while not partials and time.monotonic() < deadline:
        time.sleep(0.01)
    assert partials, "the sweep never started"
    started = time.perf_counter()
    ctx.cancel()
    thread.join(10)
    assert "cancelled" in outcome, outcome
    seconds = outcome["cancelled"] - started
    print(f"cancel reached the remote job and came back in {seconds * 1000:.0f} ms")
    assert seconds < 1.0
    assert partials[-1].done < partials[-1].total  # it stopped mid-sweep


def test_version_mismatch_is_refused_naming_which(executor, digits, picture, monkeypatch):
    real = cluster_module.versions()
    monkeypatch.setattr(cluster_module, "versions", lambda: {**real, "torch": "1.0.0"})
    job = functools.partial(map_job, digits, picture, "gradcam", None, None, {})
    with pytest.raises(ClusterError, match=r"refuses the job.*torch") as error:
        executor.run(job, PlainContext())
    assert "\n" not in str(error.value)


def test_cli_cam_on_the_cluster_equals_local(cluster, capsys):
    from workbench.cli import main

    command = ["cam", str(sample_path("chelsea")), "--method", "gradcam", "--json",
               "--model", "digits_lenet"]
    assert main(command) == 0
    local = json.loads(capsys.readouterr().out)
    assert main([*command, "--cluster", cluster.scheduler_address]) == 0
    remote = json.loads(capsys.readouterr().out)
    assert remote == local


def test_a_worker_killed_mid_job_is_a_clear_error(client, digits, picture):
    executor = RemoteExecutor(client)
    executor.run(functools.partial(map_job, digits, picture, "gradcam", None, None, {}),
                 PlainContext())
    pid = executor.stats()["pid"]
    ctx = PlainContext()
    partials = []
    ctx._on_partial = partials.append
    outcome = {}

    def run():
        try:
            outcome["result"] = executor.run(long_sweep(digits, picture), ctx)
        except ClusterError as exc:
            outcome["error"] = str(exc)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 20
    while not partials and time.monotonic() < deadline:
        time.sleep(0.01)
    assert partials, "the sweep never started"
    os.kill(pid, signal.SIGKILL)  # the worker process dies mid-job
    thread.join(30)
    assert "the worker running the job was lost" in outcome.get("error", ""), outcome
    assert "run it again" in outcome["error"]
    client.wait_for_workers(2, timeout=60)  # the nanny brings a fresh worker for the others
    result = executor.run(functools.partial(map_job, digits, picture, "gradcam", None, None,
                                            {}), PlainContext())
    assert result.heat.shape == (32, 32) and executor.stats()["loads"] == 1  # a new actor


def test_a_clip_model_keeps_its_prompts_on_the_worker(executor, picture, tmp_path):
    """The prompts are a CLIP model's labels: the worker applies the same ones."""
    from tests.tiny_clip import tiny_clip_dir
    from workbench.core.models import load_model
    from workbench.core.models.clip_zoo import set_prompts
    from workbench.core.predict import predict_image

    model = load_model(f"clip:{tiny_clip_dir(tmp_path / 'tiny_clip')}:random")
    set_prompts(model, "a cat, a dog, a teapot", "a picture of {}")
    job = functools.partial(predict_image, model, picture, 3)
    (remote, _), (local, _) = executor.run(job, PlainContext()), job(PlainContext())
    assert [c.label for c in remote.top] == [c.label for c in local.top]
    assert {c.label for c in remote.top} == {"a cat", "a dog", "a teapot"}
    np.testing.assert_allclose(remote.probs, local.probs, atol=1e-5)
