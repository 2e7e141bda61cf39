"""Embedding explorer speed: feature extraction against the bare batched forward pass,
k-NN queries over 100 000 × 1280 features, t-SNE and UMAP wall time, UMAP's first call.

Targets (issue): extraction throughput ≥ 0.8× the bare model's batched forward on
already-prepared tensors at the same batch size (time ratio ≤ 1.25×); one k-NN query
over 100 000 × 1280 ≤ 150 ms; t-SNE and UMAP times are reported, not targeted.

On a shared 2-core machine, OpenMP's default spin-waiting makes every multi-threaded
library (torch, openTSNE) many times slower while another process is busy;
``OMP_WAIT_POLICY=PASSIVE`` (set before torch is imported) removes that.  The table
header says which policy was in effect.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import Row, timed

EXTRACT_IMAGES = 256
EXTRACT_BATCH = 16


# ------------------------------------------------------------------ feature extraction


def write_jpegs(folder: Path, count: int = EXTRACT_IMAGES, side: int = 300) -> Path:
    """``count`` smooth random 300×300 JPEGs (photo-like file sizes, quality 90)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(count):
        coarse = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        image = Image.fromarray(coarse).resize((side, side), Image.Resampling.BICUBIC)
        noise = rng.integers(-12, 13, (side, side, 3))
        pixels = np.clip(np.asarray(image, np.int16) + noise, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:04d}.jpg", quality=90)
    return folder


def extraction_rows(model, folder: Path, rounds: int, workers=(0, 1, 2)) -> list[Row]:
    from workbench.core.embedding import extract_features, folder_dataset
    from workbench.core.embedding.features import _prepare
    from workbench.io.images import load_image

    dataset = folder_dataset(folder)
    n = len(dataset)
    x = model.module.normalize(torch.rand(n, 3, *model.input_size))
    net = model.module.net

    def bare():
        with torch.inference_mode():
            for batch in x.split(EXTRACT_BATCH):
                net(batch)

    runs = {w: (lambda w=w: extract_features(model, dataset, batch_size=EXTRACT_BATCH,
                                              workers=w)) for w in workers}
    times = {w: [] for w in workers}
    limit = []
    for fn in [bare, *runs.values()]:
        fn()  # warm-up
    for r in range(rounds):
        order = list(workers) if r % 2 == 0 else list(reversed(workers))
        limit.append(timed(bare))
        for w in order:
            times[w].append(timed(runs[w]))
    limit_ms = statistics.median(limit) / n
    decode = statistics.median(timed(lambda i=i: _prepare(load_image(dataset.items[i].path),
                                                          model.input_size))
                               for i in range(32))
    rows = []
    for w in workers:
        ours = statistics.median(times[w]) / n
        rows.append(Row(f"features/img, {n} JPEG 300² → {model.name}, workers={w}", ours,
                        limit_ms, f"limit = bare forward at batch {EXTRACT_BATCH}; target ≤ "
                        f"1.25× (throughput ≥ 0.8×); decode+resize alone {decode:.1f} ms/img"))
    return rows


# ------------------------------------------------------------------------------ k-NN


def knn_rows(n: int = 100_000, dim: int = 1280, queries: int = 30) -> list[Row]:
    rng = np.random.default_rng(0)
    db = rng.standard_normal((n, dim), dtype=np.float32)
    q = rng.standard_normal((queries, dim), dtype=np.float32)
    return [_knn_row(db, q, metric) for metric in ("cosine", "euclidean", "dot")]


def _knn_row(db: np.ndarray, q: np.ndarray, metric: str) -> Row:
    """Median single-query latency, interleaved with the bare ``q·Xᵀ`` on the same tensor."""
    from workbench.core.embedding import FeatureIndex

    start = time.perf_counter()
    index = FeatureIndex(db, metric)
    build = (time.perf_counter() - start) * 1000
    queries = [torch.from_numpy(row) for row in q]
    index.query(queries[0], 10)
    ours, limit = [], []
    with torch.inference_mode():
        for query in queries:
            ours.append(timed(lambda query=query: index.query(query, 10)))
            limit.append(timed(lambda query=query: query @ index.db.T))
    return Row(f"k-NN query, {len(db)} × {db.shape[1]}, k=10, {metric}",
               statistics.median(ours), statistics.median(limit),
               f"limit = the bare q·Xᵀ; target ≤ 150 ms; index built once in {build:.0f} ms")


# ----------------------------------------------------------------------- projections


def clustered(n: int, dim: int = 50, clusters: int = 20, seed: int = 0) -> np.ndarray:
    """``n`` points in ``dim`` dimensions from ``clusters`` Gaussian blobs (PCA-50-like)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)) * 4
    return (centres[rng.integers(0, clusters, n)] + rng.normal(size=(n, dim))).astype(np.float32)


def projection_rows(sizes, tsne_gradients=("auto",), umap_seeds=(0,)) -> list[Row]:
    from workbench.core.embedding import enable_numba_cache, project, warm_up_umap

    enable_numba_cache()
    warm_up_umap(parallel=-1 in umap_seeds)
    rows = []
    for n in sizes:
        data = clustered(n)
        for gradient in tsne_gradients:
            projection = project(data, "tsne", {"gradient": gradient})
            used = gradient if gradient != "auto" else ("bh" if n < 10_000 else "fft")
            rows.append(Row(f"t-SNE (openTSNE) {n} × 50, {used}", projection.seconds * 1000,
                            0.0, f"report; 750 iterations, {torch.get_num_threads()} threads"))
        for seed in umap_seeds:
            projection = project(data, "umap", {"seed": seed})
            mode = "seeded, 1 thread" if seed >= 0 else "unseeded, parallel"
            rows.append(Row(f"UMAP {n} × 50, {mode}", projection.seconds * 1000, 0.0,
                            "report; numba compiled beforehand"))
    return rows


UMAP_FIRST_CALL = ("import time; t = time.perf_counter(); "
                   "from workbench.core.embedding import warm_up_umap; warm_up_umap(); "
                   "print(time.perf_counter() - t)")


def umap_startup_rows(cold: bool = True) -> list[Row]:
    """``warm_up_umap()`` in a fresh process: with numba's cache, and (``cold``) without."""
    rows = []
    cases = [("numba cache warm", {})]
    if cold:
        cases.append(("numba cache empty", {"NUMBA_CACHE_DIR": tempfile.mkdtemp()}))
    for label, extra in cases:
        env = dict(os.environ, **extra)
        out = subprocess.run([sys.executable, "-c", UMAP_FIRST_CALL], capture_output=True,
                             text=True, env=env, timeout=900, cwd=Path(__file__).parents[1])
        seconds = float(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else \
            float("nan")
        rows.append(Row(f"UMAP first call in a new process, {label}", seconds * 1000, 0.0,
                        "warm_up_umap(): import, fit 200 and 4 200 points, place 5"))
    return rows


# ---------------------------------------------------------------------------- driver


def run(device: str = "cpu", sizes=(10_000,), rounds: int = 3, workers=(0, 1, 2),
        parts=("extraction", "knn", "projections", "umap-startup"),
        tsne_gradients=("auto",), umap_seeds=(0,)) -> list[Row]:
    from workbench.core.models import load_model

    rows: list[Row] = []
    if "extraction" in parts:
        model = load_model("efficientnet_lite0", device=device)
        with tempfile.TemporaryDirectory() as tmp:
            rows += extraction_rows(model, write_jpegs(Path(tmp)), rounds, workers)
    if "knn" in parts:
        rows += knn_rows()
    if "projections" in parts:
        rows += projection_rows(sizes, tsne_gradients, umap_seeds)
    if "umap-startup" in parts:
        rows += umap_startup_rows()
    return rows


def main() -> None:
    import argparse

    from benchmarks.common import print_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000],
                        help="t-SNE / UMAP sizes (70000 takes minutes)")
    parser.add_argument("--parts", nargs="+", default=["extraction", "knn", "projections",
                                                       "umap-startup"])
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tsne-gradients", nargs="+", default=["auto"],
                        choices=["auto", "bh", "fft"])
    parser.add_argument("--umap-seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'default')}")
    print_table(run(sizes=args.sizes, rounds=args.rounds, workers=args.workers,
                    parts=args.parts, tsne_gradients=args.tsne_gradients,
                    umap_seeds=args.umap_seeds))


if __name__ == "__main__":
    main()
