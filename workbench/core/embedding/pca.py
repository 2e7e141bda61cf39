"""PCA: the two directions of largest variance; linear, exact, instant, and ``transform``
is a matrix multiply.

Pearson, "On lines and planes of closest fit to systems of points in space", 1901,
https://doi.org/10.1080/14786440109462720
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.core.embedding.base import Projection, Reducer, register
from workbench.core.params import param


@dataclass
class PcaParams:
    whiten: bool = param(False, help="scale both axes to unit variance")
    seed: int = param(0, low=0, high=2**31 - 1, help="seed of the randomized solver")


class Pca(Reducer):
    name = "pca"
    title = "PCA"
    paper = "https://doi.org/10.1080/14786440109462720"
    params_cls = PcaParams

    def fit(self, features, params, ctx, device) -> Projection:
        from sklearn.decomposition import PCA

        components = min(2, *features.shape)
        solver = "randomized" if min(features.shape) > 200 else "full"
        pca = PCA(components, whiten=params.whiten, svd_solver=solver, random_state=params.seed)
        coords = _pad(pca.fit_transform(features))
        explained = [float(v) for v in pca.explained_variance_ratio_]
        return Projection(self.name, coords, params, pca, extras={"explained": explained})

    def transform(self, projection, features):
        return _pad(projection.state.transform(features))


def _pad(coords: np.ndarray) -> np.ndarray:
    """One-dimensional data still gets a 2-D map (zeros on the second axis)."""
    if coords.shape[1] < 2:
        coords = np.hstack([coords, np.zeros((coords.shape[0], 2 - coords.shape[1]))])
    return coords.astype(np.float32)


register(Pca())
