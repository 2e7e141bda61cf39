"""Feature extraction partitioned over a real Dask cluster: equal to the local features,
shards cached and reused, a worker killed mid-run loses nothing, versions checked."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import replace

import numpy as np
import pytest

from workbench.core.embedding import digits_dataset, extract_features, feature_key
from workbench.core.jobs import PlainContext
from workbench.core.models import load_model
from workbench.core.remote import dataset as remote
from workbench.core.remote.cluster import ClusterError, versions

SPEC = "digits_lenet"


def _digits(count: int):
    full = digits_dataset()
    return replace(full, items=full.items[:count])


def _assert_same(cluster_fs, local_fs):
    np.testing.assert_allclose(cluster_fs.features, local_fs.features, rtol=1e-5, atol=1e-5)
    assert cluster_fs.names == local_fs.names
    np.testing.assert_array_equal(cluster_fs.labels, local_fs.labels)
    np.testing.assert_array_equal(cluster_fs.indices, local_fs.indices)


def test_cluster_extraction_equals_local_and_reuses_shards(client, tmp_path):
    data = _digits(24)
    fs, report = remote.extract_on_cluster_report(client, SPEC, data, shard_size=8,
                                                  folder=tmp_path)
    model = load_model(SPEC)
    _assert_same(fs, extract_features(model, data))
    assert (report.shards, report.cached, report.computed) == (3, 0, 3)
    assert fs.key == feature_key(model, data)  # a local `cached_features` finds it
    assert len(list((tmp_path / "shards").glob("*.npz"))) == 3
    (tmp_path / f"{fs.key}.npz").unlink()  # keep only the shards: a resumed run
    again, report = remote.extract_on_cluster_report(client, SPEC, data, shard_size=8,
                                                     folder=tmp_path)
    assert (report.cached, report.computed) == (3, 0)
    _assert_same(again, fs)


def test_version_mismatch_is_refused(client, tmp_path, monkeypatch):
    monkeypatch.setattr(remote, "versions", lambda: {**versions(), "torch": "0.0-test"})
    with pytest.raises(ClusterError, match=r"refuses the job: it has torch .*0\.0-test"):
        remote.extract_on_cluster(client, SPEC, _digits(8), shard_size=8, folder=tmp_path)


def test_embed_command_on_the_cluster(cluster, capsys):
    from workbench.cli import main

    assert main(["embed", "digits", "--cluster", cluster.scheduler_address, "--method", "pca",
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["points"] == 1797 and summary["model"] == SPEC


class _KillOnFirstShard(PlainContext):
    """Kills one worker process as soon as the first shard has arrived."""

    def __init__(self, pid: int):
        super().__init__()
        self.pid, self.killed_at = pid, None

    def progress(self, fraction, message=""):
        if message.startswith("Shards") and self.killed_at is None:
            os.kill(self.pid, signal.SIGKILL)
            self.killed_at = fraction


def test_worker_killed_mid_extraction_loses_nothing(client, tmp_path):
    """One worker of the shared cluster is killed; its nanny restarts it (2 workers again)."""
    data = _digits(160)
    client.wait_for_workers(2, timeout=60)
    pids = sorted(client.run(os.getpid).values())
    ctx = _KillOnFirstShard(pids[-1])
    try:
        fs, report = remote.extract_on_cluster_report(client, SPEC, data, shard_size=8,
                                                      ctx=ctx, folder=tmp_path)
        assert ctx.killed_at is not None and ctx.killed_at < 0.5
        assert report.computed == report.shards == 20
        _assert_same(fs, extract_features(load_model(SPEC), data))
        (tmp_path / f"{fs.key}.npz").unlink()
        _again, report = remote.extract_on_cluster_report(client, SPEC, data, shard_size=8,
                                                          folder=tmp_path)
        assert (report.cached, report.computed) == (20, 0)
    finally:
        client.wait_for_workers(2, timeout=60)
