"""Feature extraction on a local Dask cluster: 2 worker processes vs 1 on this machine.

Each worker gives torch this machine's cores divided by the workers on it
(:func:`workbench.core.remote.dataset.worker_threads`): 1 worker × 2 threads vs 2 workers ×
1 thread on 2 cores.  The row's limit is the 1-worker time halved (perfect scaling), so the
ratio is ``t(2 workers) / (t(1 worker) / 2)``: 1.0 is linear scaling, 2.0 none.  Rounds are
interleaved (1, 2, 1, 2, …), each into an empty cache folder; models load in a warm-up run.
``python -m benchmarks.bench_remote_extraction [--images 256] [--rounds 2]``
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import replace

from benchmarks.common import Row

MODELS = ("digits_lenet", "efficientnet_lite0")
SHARD = 32


def _dataset(count: int):
    from workbench.core.embedding import digits_dataset

    full = digits_dataset()
    return replace(full, items=full.items[:count])


def _once(client, spec, data) -> float:
    from workbench.core.remote.dataset import extract_on_cluster

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        extract_on_cluster(client, spec, data, shard_size=SHARD, folder=folder)
        return time.perf_counter() - start


def _local(spec, data) -> float:
    from workbench.core.embedding import extract_features
    from workbench.core.models import load_model

    model = load_model(spec)
    extract_features(model, replace(data, items=data.items[:SHARD]))  # warm-up
    start = time.perf_counter()
    extract_features(model, data)
    return time.perf_counter() - start


def run(images: int = 256, rounds: int = 2, models=MODELS) -> list[Row]:
    from distributed import Client, LocalCluster

    data = _dataset(images)
    rows = []
    kwargs = {"threads_per_worker": 1, "processes": True, "host": "127.0.0.1",
              "dashboard_address": None, "scheduler_kwargs": {"dashboard": False}}
    with LocalCluster(n_workers=1, **kwargs) as one, LocalCluster(n_workers=2, **kwargs) as two, \
            Client(one) as c1, Client(two) as c2:
        for spec in models:
            _once(c1, spec, data)  # warm-up: each worker loads the model once
            _once(c2, spec, data)
            times = {1: [], 2: []}
            for _ in range(rounds):
                times[1].append(_once(c1, spec, data))
                times[2].append(_once(c2, spec, data))
            t1, t2 = statistics.median(times[1]), statistics.median(times[2])
            here = _local(spec, data)
            per = 1000 / images
            rows.append(Row(f"cluster features/img, {images} digits → {spec}, 2 workers × 1 "
                            f"thread", t2 * per, t1 * per / 2,
                            f"limit = 1 worker × 2 threads ({t1 * per:.2f} ms/img) halved; "
                            f"speed-up {t1 / t2:.2f}×; in-process {here * per:.2f} ms/img"))
    return rows


def main() -> None:
    import argparse

    from benchmarks.common import print_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    args = parser.parse_args()
    print_table(run(args.images, args.rounds, tuple(args.models)))


if __name__ == "__main__":
    main()
