"""Feature extraction partitioned over a Dask cluster, written into the feature cache.

::

    client = connect("tcp://gpu-server:8786")            # or "local:2"
    fs = extract_on_cluster(client, "efficientnet_lite0", folder_dataset("photos/"))

The dataset's items are cut into shards of ``shard_size``; each shard is one Dask task
that runs the very same :func:`~workbench.core.embedding.features.extract_features` on a
worker, which loads the model once per process (:func:`worker_model`).  This computer
writes each finished shard into the feature cache as it arrives (``<cache>/shards``), so a
rerun — after a cancel, a crash, a lost worker — computes only the missing shards; when
all are in, the whole result is also stored under the key a local extraction looks up, so
``workbench embed DATASET`` without ``--cluster`` loads it instantly.  A worker that dies
loses nothing: Dask reruns its tasks elsewhere.  Every task carries this computer's
versions (:func:`~workbench.core.remote.cluster.versions`) and the model's weights hash;
a worker with different ones refuses with one line naming which.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from workbench.core.embedding.cache import cache_dir, key_fields, load_cached, save_cached
from workbench.core.embedding.features import FeatureSet, default_layer, extract_features
from workbench.core.jobs import JobContext, PlainContext
from workbench.core.remote.cluster import ClusterError, version_mismatch, versions
from workbench.errors import WorkbenchError

DEFAULT_SHARD_SIZE = 256
_POLL_S = 0.1
_MODELS: dict = {}  # (spec, device) → LoadedModel, one per worker process
_LOCK = threading.Lock()


@dataclass
class ShardReport:
    """What a cluster extraction did: shards taken from the cache, computed, and where."""

    shards: int = 0
    cached: int = 0
    computed: int = 0
    workers: tuple[str, ...] = ()
    key: str = ""

    def describe(self) -> str:
        where = f" on {len(self.workers)} worker(s)" if self.workers else ""
        return (f"{self.shards} shard(s): {self.cached} from the cache, "
                f"{self.computed} computed{where}")


# ------------------------------------------------------------------ on the worker


def worker_model(spec: str, device: str = "auto", threads: int = 0):
    """The model ``spec`` on ``device`` (``auto``: the first GPU, else the CPU), loaded once
    per process; ``threads`` > 0 sets torch's intra-op threads first (workers that share a
    machine should not each use every core)."""
    import torch

    from workbench.core.models import load_model

    if device == "auto":
        device = "cuda:0" if torch.cuda.is_available() else "cpu"
    with _LOCK:
        if threads > 0 and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        key = (spec, device)
        if key not in _MODELS:
            _MODELS[key] = load_model(spec, device=device)
        return _MODELS[key]


def check_versions(wanted: dict) -> None:
    """Refuse (a :class:`ClusterError`, one line) when this process's versions differ."""
    wrong = version_mismatch(wanted, versions())
    if wrong:
        raise ClusterError(f"worker {_where()} refuses the job: it has {wrong}")


def _where() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "in this process"


def worker_threads(host_workers: dict) -> int:
    """Torch threads for a worker: this machine's cores shared by the workers on it."""
    try:
        from distributed import get_worker

        host = get_worker().address.rsplit(":", 1)[0]
    except (ImportError, ValueError):
        return 0
    return max(1, (os.cpu_count() or 1) // max(1, host_workers.get(host, 1)))


def _describe_task(spec, device, layer, wanted, host_workers) -> dict:
    """The cache-key fields of ``spec`` at ``layer`` (the dataset's left to the caller)."""
    from workbench.core.embedding.datasets import Dataset

    check_versions(wanted)
    model = worker_model(spec, device, worker_threads(host_workers))
    layer = layer or default_layer(model)
    model.layer_module(layer)
    fields = key_fields(model, Dataset("", "arrays", []), layer)
    return {"fields": fields, "layer": layer}


def _shard_task(spec, device, layer, shard, wanted, weights, host_workers) -> dict:
    """One shard's features as numpy (runs on a worker)."""
    from workbench.core.embedding.cache import weights_digest

    check_versions(wanted)
    model = worker_model(spec, device, worker_threads(host_workers))
    if weights_digest(model.module) != weights:
        raise ClusterError(f"worker {_where()} refuses the job: its {spec} weights differ "
                           "from the first worker's")
    workers = 0 if model.device.type == "cpu" else 2  # processes give the CPU parallelism
    try:
        fs = extract_features(model, shard, layer, workers=workers)
    except WorkbenchError:
        problems = _problems(shard)
        if len(problems) < len(shard):
            raise
        return {"features": None, "indices": np.zeros(0, np.int64), "skipped": problems,
                "worker": _where()}
    return {"features": fs.features, "indices": fs.indices, "skipped": fs.skipped,
            "worker": _where()}


def _problems(shard) -> list[tuple[str, str]]:
    return [(shard.items[i].name, problem) for i, image, problem in shard.stream()
            if image is None]


# ------------------------------------------------------------------ on this computer


def _key(fields: dict) -> str:
    """The hash :func:`~workbench.core.embedding.cache.feature_key` makes of ``fields``."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:40]


def shards_of(dataset, shard_size: int) -> list:
    """``dataset`` cut into consecutive sub-datasets of at most ``shard_size`` items."""
    if shard_size < 1:
        raise WorkbenchError(f"the shard size must be at least 1, not {shard_size}")
    return [replace(dataset, items=dataset.items[start:start + shard_size])
            for start in range(0, len(dataset), shard_size)]


def host_workers(client) -> dict:
    """How many workers each host runs (for :func:`worker_threads`)."""
    counts: dict = {}
    for address in client.scheduler_info().get("workers", {}):
        host = address.rsplit(":", 1)[0]
        counts[host] = counts.get(host, 0) + 1
    return counts


def extract_on_cluster(client, model_spec: str, dataset, layer: str | None = None,
                       shard_size: int = DEFAULT_SHARD_SIZE, ctx: JobContext | None = None,
                       device: str = "auto", folder=None) -> FeatureSet:
    """The features :func:`~workbench.core.embedding.cached_features` gives, computed on
    ``client``'s workers (see the module docstring)."""
    return extract_on_cluster_report(client, model_spec, dataset, layer, shard_size, ctx,
                                     device, folder)[0]


def extract_on_cluster_report(client, model_spec, dataset, layer=None,
                              shard_size=DEFAULT_SHARD_SIZE, ctx=None, device="auto",
                              folder=None) -> tuple[FeatureSet, ShardReport]:
    """:func:`extract_on_cluster` and a :class:`ShardReport` of what it did."""
    ctx = ctx or PlainContext()
    if len(dataset) == 0:
        raise WorkbenchError(f"the dataset '{dataset.name}' is empty")
    wanted, hosts = versions(), host_workers(client)
    ctx.progress(0.0, "Loading the model on a worker")
    described = _wait(client, client.submit(_describe_task, model_spec, device, layer, wanted,
                                            hosts, pure=False), ctx)
    layer, fields = described["layer"], described["fields"]
    folder = Path(folder or cache_dir())
    full_key = _key({**fields, "dataset": dataset.fingerprint()})
    found = load_cached(full_key, folder)
    shards = shards_of(dataset, shard_size)
    report = ShardReport(len(shards), key=full_key)
    if found is not None:
        report.cached = len(shards)
        ctx.progress(1.0, f"Loaded {len(found)} cached features")
        return found, report
    keys = [_key({**fields, "dataset": shard.fingerprint()}) for shard in shards]
    results = {i: hit for i, k in enumerate(keys)
               if (hit := load_cached(k, folder / "shards")) is not None}
    report.cached = len(results)
    missing = [i for i in range(len(shards)) if i not in results]
    futures = {client.submit(_shard_task, model_spec, device, layer, shards[i], wanted,
                             fields["weights"], hosts, pure=False): i for i in missing}
    _collect(client, futures, shards, keys, results, folder / "shards", ctx, report)
    features = _assemble(dataset, shards, results, model_spec, layer, full_key)
    try:
        save_cached(full_key, features, folder)
    except OSError:
        pass  # a read-only cache must not lose the computed features
    return features, report


def wait_some(futures, timeout: float = _POLL_S) -> tuple[set, set]:
    """``(done, pending)`` after at most ``timeout`` seconds (Dask's ``wait`` raises then)."""
    from distributed import wait

    try:
        wait(list(futures), timeout=timeout, return_when="FIRST_COMPLETED")
    except TimeoutError:
        pass
    done = {future for future in futures if future.done()}
    return done, set(futures) - done


def _wait(client, future, ctx):
    try:
        while not future.done():
            ctx.check()
            wait_some([future])
    except BaseException:
        client.cancel([future])
        raise
    except_on_error(future)
    return future.result()


def except_on_error(future) -> None:
    """Re-raise a task's error: a Workbench error as is, anything else as one line."""
    if future.status == "cancelled":
        raise ClusterError("the cluster cancelled the task (was the scheduler restarted?)")
    if future.status != "error":
        return
    error = future.exception()
    if isinstance(error, WorkbenchError):
        raise error
    raise ClusterError(f"a task failed on the cluster: {type(error).__name__}: {error}")


def completed(client, futures: dict, ctx):
    """``(futures[f], f.result())`` for each future of ``futures`` as it finishes; a task's
    error is raised here, and Cancel (``ctx.check()``) or any error cancels the rest."""
    pending = set(futures)
    try:
        while pending:
            ctx.check()
            done, pending = wait_some(pending)
            for future in done:
                except_on_error(future)
                yield futures[future], future.result()
                future.release()
    except BaseException:
        client.cancel(list(pending))
        raise


def _collect(client, futures, shards, keys, results, shard_folder, ctx, report):
    """Wait for every shard, writing each into the cache as it arrives; Cancel cancels all."""
    total, seen = len(shards), set()
    for index, payload in completed(client, futures, ctx):
        shard_fs = _shard_set(shards[index], payload)
        results[index] = shard_fs
        report.computed += 1
        seen.add(payload["worker"])
        with contextlib.suppress(OSError):  # a read-only cache: the shard is still used
            save_cached(keys[index], shard_fs, shard_folder)
        ctx.progress(len(results) / total, f"Shards {len(results)} / {total}")
    report.workers = tuple(sorted(seen))


def _shard_set(shard, payload: dict) -> FeatureSet:
    """A shard's task result as a (cacheable) :class:`FeatureSet` with shard-local rows."""
    indices = np.asarray(payload["indices"], dtype=np.int64)
    features = payload["features"]
    if features is None:
        features = np.zeros((0, 0), np.float32)
    return FeatureSet(np.asarray(features, np.float32), shard.labels[indices],
                      [shard.items[i].name for i in indices], list(shard.label_names),
                      [tuple(s) for s in payload["skipped"]], indices=indices)


def _assemble(dataset, shards, results, spec, layer, key) -> FeatureSet:
    rows, indices, skipped, offset = [], [], [], 0
    for number, shard in enumerate(shards):
        part = results[number]
        if len(part):
            rows.append(part.features)
            indices.append(np.asarray(part.indices, np.int64) + offset)
        skipped += part.skipped
        offset += len(shard)
    if not rows:
        first = f"; first problem: {skipped[0][0]}: {skipped[0][1]}" if skipped else ""
        raise WorkbenchError(f"none of the {len(dataset)} items could be read{first}")
    index = np.concatenate(indices)
    return FeatureSet(np.concatenate(rows).astype(np.float32, copy=False),
                      dataset.labels[index], [dataset.items[i].name for i in index],
                      list(dataset.label_names), skipped, spec, layer, index, key)


@contextlib.contextmanager
def connected(address: str):
    """A client for ``address`` (``local:N`` starts a cluster), closed afterwards."""
    from workbench.core.remote.cluster import connect

    client = connect(address)
    try:
        yield client
    finally:
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None and address.strip().startswith("local:"):
            cluster.close()


def cluster_features(address: str, spec: str, dataset, layer=None, ctx=None,
                     use_cache: bool = True, shard_size: int = DEFAULT_SHARD_SIZE):
    """``workbench embed --cluster``: connect, extract, close (``use_cache=False``: shards
    go to a temporary folder, removed afterwards)."""
    import tempfile

    with connected(address) as client, contextlib.ExitStack() as stack:
        folder = None if use_cache else stack.enter_context(tempfile.TemporaryDirectory())
        return extract_on_cluster(client, spec, dataset, layer, shard_size, ctx, folder=folder)
