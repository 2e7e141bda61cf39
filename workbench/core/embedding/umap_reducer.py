"""UMAP: a fuzzy neighbour graph laid out in 2-D; fast, keeps more global structure than
t-SNE, and places new points with ``transform``.

McInnes, Healy & Melville, "UMAP: Uniform Manifold Approximation and Projection for
Dimension Reduction", 2018, https://arxiv.org/abs/1802.03426 (umap-learn).

umap-learn runs in :mod:`workbench.core.umap_engine` (numba cache, fit, warm-up); in the
window it runs in a helper process (:mod:`workbench.core.umap_process`) so that numba
never holds the window's interpreter lock, elsewhere in this process.  Run
:func:`warm_up_umap` on the worker at startup so the first real map does not wait for the
compiler.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.core import umap_engine, umap_process
from workbench.core.embedding.base import (
    METRICS,
    Projection,
    Reducer,
    reduce_for_neighbours,
    register,
)
from workbench.core.params import param
from workbench.errors import Cancelled

enable_numba_cache = umap_engine.enable_numba_cache


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


@dataclass
class HelperMap:
    """A map fitted in the helper process, named by its handle there."""

    handle: tuple


def warm_up_umap(parallel: bool = False, ctx=None) -> float:
    """Compile (or load from numba's cache) UMAP's fit and transform where maps will run
    (the helper process when it is enabled); returns seconds."""
    if umap_process.enabled():
        try:
            return umap_process.helper().warm_up(parallel, ctx)
        except umap_process.HelperUnavailable:
            umap_process.enable(False)  # from now on UMAP runs in this process
    return umap_engine.warm_up(parallel)


def _epoch_reporter(ctx):
    def report(done: int, total: int) -> None:
        if ctx.cancelled:
            raise Cancelled()
        if total > 0:
            ctx.progress(*umap_engine.epoch_progress(done, total))

    return report


class Umap(Reducer):
    name = "umap"
    title = "UMAP"
    paper = "https://arxiv.org/abs/1802.03426"
    params_cls = UmapParams

    def fit(self, features, params, ctx, device) -> Projection:
        data, reduction, metric = reduce_for_neighbours(
            features, params.metric, params.pca_dims, params.seed)
        ctx.check()
        options = {"n_neighbors": params.n_neighbors, "min_dist": params.min_dist,
                   "metric": metric, "seed": params.seed, "n_epochs": params.n_epochs}
        if umap_process.enabled():
            try:
                handle, coords = umap_process.helper().fit(data, options, ctx)
                return Projection(self.name, coords, params, (reduction, HelperMap(handle)))
            except umap_process.HelperUnavailable:
                umap_process.enable(False)  # from now on UMAP runs in this process
        ctx.progress(*umap_engine.NEIGHBOURS_PROGRESS)
        coords, model = umap_engine.fit(data, options, _epoch_reporter(ctx))
        return Projection(self.name, coords, params, (reduction, model))

    def transform(self, projection, features):
        reduction, model = projection.state
        data = np.ascontiguousarray(reduction.apply(features), dtype=np.float32)
        if isinstance(model, HelperMap):
            return umap_process.helper().transform(model.handle, data)
        return umap_engine.transform(model, data)


REDUCER = register(Umap())
