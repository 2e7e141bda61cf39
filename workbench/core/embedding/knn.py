"""Nearest neighbours in the original feature space: one matrix multiply and ``topk``.

The database is kept as a float32 tensor on the model's device (rows
L2-normalized once for cosine, squared norms kept for euclidean), so a query
costs one pass over it.  Queries are processed in chunks so that the score
matrix stays under :data:`SCORE_BUDGET_BYTES` — all-against-all over 100 000
points works in bounded memory.

Distances: cosine → ``1 − cos``; euclidean → the L2 distance (ranked by the
``|x|² − 2 q·x`` expansion, then computed exactly for the k found); dot → the
negated dot product.  In every case smaller is nearer.
"""

from __future__ import annotations

import numpy as np
import torch

from workbench.errors import InputError

METRICS = ("cosine", "euclidean", "dot")
SCORE_BUDGET_BYTES = 256 * 2**20


def _as_tensor(values, device) -> torch.Tensor:
    tensor = values if isinstance(values, torch.Tensor) else torch.from_numpy(np.asarray(values))
    return tensor.detach().to(device=device, dtype=torch.float32)


class FeatureIndex:
    """A searchable feature database.

    Parameters
    ----------
    features
        ``(N, D)`` numpy array or tensor.
    metric
        ``cosine``, ``euclidean`` or ``dot``.
    device
        Where the database lives and the search runs (default: the features' own device).
    """

    def __init__(self, features, metric: str = "cosine", device=None):
        if metric not in METRICS:
            raise InputError(f"metric must be one of {', '.join(METRICS)}, not '{metric}'")
        if device is None:
            device = features.device if isinstance(features, torch.Tensor) else "cpu"
        with torch.inference_mode():
            db = _as_tensor(features, device)
            if db.ndim != 2 or db.shape[0] == 0:
                raise InputError(f"expected (N, D) features, got shape {tuple(db.shape)}")
            if not torch.isfinite(db).all():
                raise InputError("the features contain NaN or infinite values")
            if metric == "cosine":
                db = torch.nn.functional.normalize(db, dim=1)
            self.neg_norms = -(db * db).sum(dim=1)[None] if metric == "euclidean" else None
        self.db, self.metric, self.device = db, metric, torch.device(device)

    def __len__(self) -> int:
        return int(self.db.shape[0])

    def query(self, queries, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """``(indices (M, k) int64, distances (M, k) float32)``, nearest first."""
        with torch.inference_mode():
            q = _as_tensor(queries, self.device)
            if q.ndim == 1:
                q = q[None]
            if q.ndim != 2 or q.shape[1] != self.db.shape[1]:
                raise InputError(f"queries of shape {tuple(q.shape)} do not match features of "
                                 f"dimension {self.db.shape[1]}")
            k = max(1, min(int(k), len(self)))
            chunk = max(1, SCORE_BUDGET_BYTES // (4 * len(self)))
            parts = [self._search(q[i : i + chunk], k) for i in range(0, q.shape[0], chunk)]
            indices = torch.cat([p[0] for p in parts]).cpu().numpy()
            distances = torch.cat([p[1] for p in parts]).cpu().numpy()
        return indices.astype(np.int64), distances.astype(np.float32)

    def _search(self, q: torch.Tensor, k: int):
        if self.metric == "cosine":
            q = torch.nn.functional.normalize(q, dim=1)
        if self.metric == "euclidean":  # 2 q·x − |x|² = |q|² − d², in one BLAS call
            scores = torch.addmm(self.neg_norms, q, self.db.T, alpha=2.0)
        else:
            scores = q @ self.db.T
        values, indices = scores.topk(k, dim=1, largest=True, sorted=True)
        if self.metric == "cosine":
            distances = 1.0 - values
        elif self.metric == "euclidean":  # exact distances for the k found, then re-sorted
            distances = (q[:, None, :] - self.db[indices]).norm(dim=2)
            distances, order = distances.sort(dim=1, stable=True)
            indices = indices.gather(1, order)
        else:
            distances = -values
        return indices, distances


def nearest(features_db, query, k: int = 10, metric: str = "cosine",
            device=None) -> tuple[np.ndarray, np.ndarray]:
    """``k`` nearest rows of ``features_db`` to each row of ``query`` (see :class:`FeatureIndex`).

    For repeated queries, build a :class:`FeatureIndex` once (or pass one here).
    """
    index = features_db if isinstance(features_db, FeatureIndex) else FeatureIndex(
        features_db, metric, device)
    if index.metric != metric:
        raise InputError(f"the index uses {index.metric}, not {metric}")
    return index.query(query, k)
