"""Nearest neighbours equal a brute-force computation, for every metric and in chunks."""

import numpy as np
import pytest
import torch

from workbench.core.embedding import FeatureIndex, nearest
from workbench.core.embedding import knn as knn_module
from workbench.errors import InputError


def brute_force(db, queries, k, metric):
    db, queries = db.astype(np.float64), queries.astype(np.float64)
    if metric == "cosine":
        unit = db / np.linalg.norm(db, axis=1, keepdims=True)
        q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        distances = 1.0 - q @ unit.T
    elif metric == "euclidean":
        distances = np.sqrt(((queries[:, None, :] - db[None]) ** 2).sum(-1))
    else:
        distances = -(queries @ db.T)
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(distances, order, axis=1)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(3000, 48)).astype(np.float32), \
        rng.normal(size=(40, 48)).astype(np.float32)


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot"])
def test_equals_brute_force(data, metric):
    db, queries = data
    indices, distances = nearest(db, queries, k=10, metric=metric)
    expected_i, expected_d = brute_force(db, queries, 10, metric)
    np.testing.assert_array_equal(indices, expected_i)
    np.testing.assert_allclose(distances, expected_d, rtol=1e-4, atol=1e-4)
    assert indices.dtype == np.int64 and distances.dtype == np.float32


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot"])
def test_chunked_queries_give_the_same_answer(data, metric, monkeypatch):
    db, queries = data
    index = FeatureIndex(torch.from_numpy(db), metric)
    whole = index.query(queries, 5)
    monkeypatch.setattr(knn_module, "SCORE_BUDGET_BYTES", 4 * len(db) * 3)  # 3 queries a chunk
    chunked = index.query(queries, 5)
    np.testing.assert_array_equal(chunked[0], whole[0])
    np.testing.assert_allclose(chunked[1], whole[1], rtol=1e-5, atol=1e-6)


def test_a_point_finds_itself_first_and_k_is_clipped(data):
    db, _ = data
    index = FeatureIndex(db[:8], "euclidean")
    indices, distances = index.query(db[3], k=50)
    assert indices.shape == (1, 8) and indices[0, 0] == 3
    assert distances[0, 0] == pytest.approx(0.0, abs=1e-3)
    assert np.all(np.diff(distances[0]) >= 0)


def test_errors():
    with pytest.raises(InputError, match="metric must be one of"):
        FeatureIndex(np.zeros((3, 2)), "manhattan")
    with pytest.raises(InputError, match="do not match"):
        FeatureIndex(np.ones((3, 2)), "cosine").query(np.ones((1, 5)))
    with pytest.raises(InputError, match="NaN"):
        FeatureIndex(np.full((3, 2), np.nan))
    with pytest.raises(InputError, match="uses cosine"):
        nearest(FeatureIndex(np.ones((3, 2))), np.ones((1, 2)), metric="dot")
