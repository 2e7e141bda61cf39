"""t-SNE with openTSNE: neighbourhoods kept, clusters pulled apart; new points can be added.

van der Maaten & Hinton, "Visualizing Data using t-SNE", JMLR 2008,
https://jmlr.org/papers/v9/vandermaaten08a.html.  Implementation: Poličar, Stražar &
Zupan, "openTSNE: a modular Python library for t-SNE dimensionality reduction and
embedding", 2019, https://doi.org/10.1101/731877 — chosen because it embeds new points
into an existing map (``TSNEEmbedding.transform``), runs its gradients on all cores, and
offers FFT-interpolated gradients (Linderman et al. 2019, https://arxiv.org/abs/1712.09005)
that are O(N): scikit-learn's single-threaded Barnes-Hut needs minutes for 5 000 points here.

Gradient method ``auto`` (openTSNE's own rule) uses Barnes-Hut below 10 000 points and FFT
above: FFT's cost is set by the interpolation grid, which dominates for small maps
(benchmarks/bench_embedding.py measures both).
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.core.embedding.base import (
    METRICS,
    MapUpdate,
    Projection,
    Reducer,
    reduce_for_neighbours,
    register,
)
from workbench.core.params import param

EXAGGERATION_ITER = 250
CALLBACK_EVERY = 25
TRANSFORM_ITER = 100


@dataclass
class TsneParams:
    perplexity: float = param(30.0, low=2.0, high=200.0,
                              help="effective number of neighbours each point keeps")
    metric: str = param("euclidean", choices=METRICS, help="distance between features")
    seed: int = param(0, low=0, high=2**31 - 1, help="random seed")
    iterations: int = param(500, low=50, high=5000,
                            help="optimization steps after 250 early-exaggeration steps")
    pca_dims: int = param(50, low=0, high=1000,
                          help="PCA to this many dimensions first (0: use the features as is)")
    gradient: str = param("auto", choices=("auto", "fft", "bh"),
                          help="auto: Barnes-Hut below 10 000 points, FFT interpolation above")


class _Progress:
    """openTSNE callback: progress, a live map every few steps, and cancellation."""

    def __init__(self, ctx, total: int):
        self.ctx, self.total, self.done = ctx, total, 0

    def __call__(self, _iteration, error, embedding):
        import numpy as np

        self.ctx.check()
        self.done += CALLBACK_EVERY
        coords = np.array(embedding, dtype=np.float32)
        self.ctx.partial(MapUpdate("tsne", self.done, self.total, coords, float(error)))
        self.ctx.progress(0.1 + 0.9 * self.done / self.total, f"t-SNE step {self.done}")
        return False


class Tsne(Reducer):
    name = "tsne"
    title = "t-SNE"
    paper = "https://jmlr.org/papers/v9/vandermaaten08a.html"
    params_cls = TsneParams

    def fit(self, features, params, ctx, device) -> Projection:
        import torch
        from openTSNE import TSNE

        data, reduction, metric = reduce_for_neighbours(
            features, params.metric, params.pca_dims, params.seed)
        ctx.check()
        ctx.progress(0.05, "t-SNE: finding neighbours")
        total = EXAGGERATION_ITER + params.iterations
        tsne = TSNE(
            perplexity=min(params.perplexity, (len(data) - 1) / 3), metric=metric,
            n_iter=params.iterations, early_exaggeration_iter=EXAGGERATION_ITER,
            initialization="pca", negative_gradient_method=params.gradient,
            n_jobs=max(1, torch.get_num_threads()), random_state=params.seed,
            callbacks=_Progress(ctx, total), callbacks_every_iters=CALLBACK_EVERY,
        )
        embedding = tsne.fit(data)
        return Projection(self.name, embedding, params, (reduction, embedding))

    def transform(self, projection, features):
        reduction, embedding = projection.state
        return embedding.transform(reduction.apply(features), n_iter=TRANSFORM_ITER)


register(Tsne())
