"""The projection family: features ``(N, D)`` → a 2-D map ``(N, 2)``, and new points into it.

A :class:`Reducer` declares its parameters as a dataclass and implements
``fit`` and ``transform``; each method is one short file that registers
itself.  ``project(features, "umap", {"n_neighbors": 30})`` is the entry point;
``projection.transform(new_features)`` places new points in an existing map
without recomputing it.

Live display: reducers that iterate call ``ctx.partial(MapUpdate(...))`` with
the current coordinates and loss, so a UI can animate the map as it forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.core.jobs import JobContext, PlainContext
from workbench.core.params import make
from workbench.core.registry import Registry
from workbench.errors import InputError

REDUCERS = Registry("projection")
METRICS = ("euclidean", "cosine")
MIN_POINTS = 3


@dataclass
class MapUpdate:
    """A partial result: the map after ``step`` of ``total`` steps (coords may be ``None``)."""

    method: str
    step: int
    total: int
    coords: np.ndarray | None = None
    loss: float | None = None


@dataclass
class Projection:
    """A fitted 2-D map of the features it was fitted on."""

    method: str
    coords: np.ndarray  # (N, 2) float32
    params: object
    state: object = None  # the fitted model, reducer-specific
    seconds: float = 0.0
    extras: dict = field(default_factory=dict)

    def transform(self, features) -> np.ndarray:
        """Coordinates ``(M, 2)`` for new features ``(M, D)`` in this map."""
        features = check_features(features, minimum=1)
        return np.asarray(get_reducer(self.method).transform(self, features), np.float32)


class Reducer:
    """One projection method.  Subclasses set the class attributes, ``fit`` and ``transform``."""

    name = ""
    title = ""
    paper = ""
    params_cls = None

    def __call__(self, features, params=None, ctx: JobContext | None = None,
                 device="cpu") -> Projection:
        import time

        ctx = ctx or PlainContext()
        features = check_features(features)
        if params is None or isinstance(params, dict):
            params = make(self.params_cls, params)
        ctx.check()
        start = time.perf_counter()
        projection = self.fit(features, params, ctx, device)
        projection.coords = np.asarray(projection.coords, dtype=np.float32)
        projection.seconds = time.perf_counter() - start
        ctx.progress(1.0, f"{self.title} done")
        return projection

    def fit(self, features: np.ndarray, params, ctx: JobContext, device) -> Projection:
        raise NotImplementedError

    def transform(self, projection: Projection, features: np.ndarray) -> np.ndarray:
        raise NotImplementedError


register = REDUCERS.register


def get_reducer(name: str) -> Reducer:
    return REDUCERS.named(name)


def check_features(features, minimum: int = MIN_POINTS) -> np.ndarray:
    """``features`` as a finite float32 ``(N, D)`` array with at least ``minimum`` rows."""
    array = np.asarray(features, dtype=np.float32)
    if array.ndim != 2 or array.shape[1] < 1:
        raise InputError(f"expected features of shape (N, D), got {array.shape}")
    if array.shape[0] < minimum:
        raise InputError(f"a map needs at least {minimum} points, got {array.shape[0]}")
    if not np.isfinite(array).all():
        raise InputError("the features contain NaN or infinite values")
    return np.ascontiguousarray(array)


@dataclass
class Reduction:
    """Optional preprocessing shared by t-SNE and UMAP: unit rows (cosine) and PCA.

    Neighbour search in 1280 dimensions is what makes both methods slow; PCA to
    ~50 dimensions keeps nearly all of the neighbourhood structure (the usual
    advice of both papers' authors).  For cosine, rows are L2-normalized first:
    Euclidean distance between unit vectors is monotone in cosine distance, so
    the reduced data is searched with ``euclidean``.
    """

    normalize: bool = False
    pca: object = None

    def apply(self, features: np.ndarray) -> np.ndarray:
        x = features
        if self.normalize:
            x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        if self.pca is not None:
            x = self.pca.transform(x)
        return np.ascontiguousarray(x, dtype=np.float32)


def reduce_for_neighbours(features, metric: str, pca_dims: int, seed: int):
    """``(data, reduction, metric)`` to hand to a neighbour-graph method."""
    n, d = features.shape
    if pca_dims <= 0 or d <= pca_dims or n <= pca_dims:
        return features, Reduction(), metric
    from sklearn.decomposition import PCA

    reduction = Reduction(normalize=metric == "cosine")
    x = reduction.apply(features)
    solver = "randomized" if min(n, d) > 4 * pca_dims else "full"
    reduction.pca = PCA(pca_dims, svd_solver=solver, random_state=max(seed, 0))
    reduced = reduction.pca.fit_transform(x)
    return np.ascontiguousarray(reduced, dtype=np.float32), reduction, "euclidean"
