"""UMAP: a fuzzy neighbour graph laid out in 2-D; fast, keeps more global structure than
t-SNE, and places new points with ``transform``.

McInnes, Healy & Melville, "UMAP: Uniform Manifold Approximation and Projection for
Dimension Reduction", 2018, https://arxiv.org/abs/1802.03426 (umap-learn).

Compilation.  umap-learn compiles its numba kernels on the first call in every process
(22–66 s on a 2-core machine).  pynndescent marks most of its kernels ``cache=True``, but
umap-learn 0.5 does not (only one small function in ``umap/layouts.py``), nor do
pynndescent's NN-descent helpers, so that compiled code was thrown away at exit.
:func:`enable_numba_cache` turns numba's on-disk cache on for those module-level kernels
before they compile; the cache goes to each package's ``__pycache__`` when site-packages
is writable, else to ``$NUMBA_CACHE_DIR`` or ``~/.cache/numba``.  ``nn_descent`` itself
cannot be cached (numba: "uses dynamic globals") and compiles in each process (~10 s
here) the first time a map has more than 4 096 points.  Measured here: first UMAP of the
digits in a new process 20 s → 4.6 s, first transform 5.3 s → 0.2 s; :func:`warm_up_umap`
in a new process 131 s with an empty cache, 18 s with it.  Run :func:`warm_up_umap` on the
worker at startup so the first real map does not wait for the compiler.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

import numpy as np

from workbench.core.embedding.base import (
    METRICS,
    Projection,
    Reducer,
    reduce_for_neighbours,
    register,
)
from workbench.core.params import param
from workbench.errors import Cancelled

_UMAP_MODULES = ("umap.distances", "umap.utils", "umap.layouts", "umap.sparse", "umap.umap_",
                 "umap.spectral", "pynndescent.pynndescent_", "pynndescent.utils",
                 "pynndescent.kernels", "pynndescent.distances", "pynndescent.rp_trees",
                 "pynndescent.graph_utils", "pynndescent.search")
# umap-learn finds neighbours exactly below 4096 points and with NN-descent above; fit and
# transform take different compiled paths on each side, so the warm-up visits both.
WARM_UP_SIZES = (200, 4200)
# numba refuses to cache these ("uses dynamic globals"): they compile in every process.
_UNCACHEABLE = {"nn_descent", "nn_descent_internal"}
_LOCK = threading.Lock()
_STATE = {"cache_enabled": False, "warm": set()}


@dataclass
class UmapParams:
    n_neighbors: int = param(15, low=2, high=200,
                             help="neighbours per point: larger keeps more global structure")
    min_dist: float = param(0.1, low=0.0, high=1.0, help="how tightly points may pack")
    metric: str = param("euclidean", choices=METRICS, help="distance between features")
    seed: int = param(0, low=-1, high=2**31 - 1,
                      help="random seed; -1: not reproducible but uses every core")
    n_epochs: int = param(0, low=0, high=5000,
                          help="layout epochs (0: UMAP's default, 500 for small data, 200 above "
                               "10 000 points)")
    pca_dims: int = param(50, low=0, high=1000,
                          help="PCA to this many dimensions first (0: use the features as is)")


def enable_numba_cache() -> int:
    """Turn on numba's on-disk cache for umap-learn's kernels; returns how many were enabled.

    Must run before the kernels compile (import time is fine; fitting is too late for
    this process).  Safe to call repeatedly.
    """
    import importlib

    with _LOCK:
        if _STATE["cache_enabled"]:
            return 0
        from numba.core.caching import NullCache
        from numba.core.registry import CPUDispatcher

        count = 0
        for name in _UMAP_MODULES:
            module = importlib.import_module(name)
            for value in vars(module).values():
                if (isinstance(value, CPUDispatcher) and isinstance(value._cache, NullCache)
                        and value.__name__ not in _UNCACHEABLE):
                    value.enable_caching()
                    count += 1
        _STATE["cache_enabled"] = True
        return count


def warm_up_umap(parallel: bool = False) -> float:
    """Compile (or load from the numba cache) UMAP's fit and transform; returns seconds.

    Meant for the background worker at startup, so the first real UMAP is fast: it fits
    200 and 4 200 random points (exact and NN-descent neighbours) and places 5 new ones.
    ``parallel`` also compiles the multi-threaded layout used with ``seed=-1``.
    """
    start = time.perf_counter()
    enable_numba_cache()
    rng = np.random.default_rng(0)
    for seed in ((0, -1) if parallel else (0,)):
        if seed in _STATE["warm"]:
            continue
        for size in WARM_UP_SIZES:
            data = rng.normal(size=(size, 8)).astype(np.float32)
            params = UmapParams(n_neighbors=10, seed=seed, n_epochs=10, pca_dims=0)
            REDUCER(data, params).transform(data[:5])
        _STATE["warm"].add(seed)
    return time.perf_counter() - start


class _EpochStream:
    """A file for umap's tqdm bar: turns ``n/total`` into progress and cancels between epochs."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.raised = False

    def write(self, text: str) -> None:
        found = re.findall(r"(\d+)/(\d+)", text)
        if found:
            done, total = (int(v) for v in found[-1])
            self.ctx.progress(0.3 + 0.7 * done / max(total, 1), f"UMAP epoch {done} / {total}")
        if self.ctx.cancelled and not self.raised:
            self.raised = True
            raise Cancelled()

    def flush(self) -> None:
        pass


class Umap(Reducer):
    name = "umap"
    title = "UMAP"
    paper = "https://arxiv.org/abs/1802.03426"
    params_cls = UmapParams

    def fit(self, features, params, ctx, device) -> Projection:
        enable_numba_cache()
        from umap import UMAP

        data, reduction, metric = reduce_for_neighbours(
            features, params.metric, params.pca_dims, params.seed)
        ctx.check()
        ctx.progress(0.1, "UMAP: finding neighbours")
        seeded = params.seed >= 0
        tqdm_kwds = {"disable": False, "file": _EpochStream(ctx), "bar_format": "{n}/{total}",
                     "mininterval": 0.1, "ascii": True}
        model = UMAP(
            n_neighbors=max(2, min(params.n_neighbors, len(data) - 1)),
            min_dist=params.min_dist, metric=metric, n_epochs=params.n_epochs or None,
            random_state=params.seed if seeded else None, n_jobs=1 if seeded else -1,
            tqdm_kwds=tqdm_kwds,
        )
        coords = model.fit_transform(data)
        model.tqdm_kwds = {"disable": True}  # transform later must not report to this job
        return Projection(self.name, coords, params, (reduction, model))

    def transform(self, projection, features):
        reduction, model = projection.state
        return model.transform(reduction.apply(features))


REDUCER = register(Umap())
