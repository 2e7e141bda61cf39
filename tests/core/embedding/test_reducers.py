"""Every registered projection: shapes, placing new points, cancellation; and on the digits
model's penultimate features, t-SNE and UMAP separate the ten digits (5-NN ≥ 0.9 in 2-D).

UMAP compiles its numba kernels the first time it runs on a machine (tens of seconds);
afterwards they load from numba's on-disk cache (see umap_reducer.py)."""

import numpy as np
import pytest
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from workbench.core.embedding import (
    REDUCER_ORDER,
    REDUCERS,
    MapUpdate,
    arrays_dataset,
    extract_features,
    project,
)
from workbench.core.jobs import PlainContext
from workbench.core.params import describe
from workbench.errors import Cancelled, InputError

FAST = {
    "pca": {},
    "tsne": {"iterations": 100, "perplexity": 10.0},
    "umap": {"n_epochs": 50, "n_neighbors": 10},
    "autoencoder": {"epochs": 20, "hidden": 32},
}


def clusters(n=300, dim=20, k=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim)) * 6
    labels = rng.integers(0, k, n)
    return (centres[labels] + rng.normal(size=(n, dim))).astype(np.float32), labels


def knn5(coords, labels):
    return cross_val_score(KNeighborsClassifier(5), coords, labels, cv=5).mean()


def test_registry_has_every_method_of_the_issue():
    assert set(REDUCER_ORDER) == set(REDUCERS)
    for reducer in REDUCERS.values():
        assert reducer.paper.startswith("https://") and describe(reducer.params_cls)


@pytest.mark.parametrize("method", REDUCER_ORDER)
def test_map_shape_and_new_points(method):
    features, labels = clusters()
    projection = project(features[:250], method, FAST[method])
    assert projection.coords.shape == (250, 2) and projection.coords.dtype == np.float32
    assert np.isfinite(projection.coords).all() and projection.seconds > 0
    assert knn5(projection.coords, labels[:250]) > 0.95
    placed = projection.transform(features[250:])
    assert placed.shape == (50, 2) and np.isfinite(placed).all()
    classifier = KNeighborsClassifier(5).fit(projection.coords, labels[:250])
    assert classifier.score(placed, labels[250:]) > 0.95


@pytest.mark.parametrize("method", ["tsne", "umap", "autoencoder"])
def test_cancel(method):
    ctx = PlainContext()
    ctx._on_progress = lambda fraction, message: ctx.cancel() if fraction > 0.2 else None
    with pytest.raises(Cancelled):
        project(clusters(n=400)[0], method, FAST[method] | (
            {"n_epochs": 400} if method == "umap" else {}), ctx=ctx)


def test_a_cancelled_umap_gives_back_tqdms_lock():
    """tqdm's refresh has no try/finally: a cancel raised inside the bar used to leave its
    process-wide lock held, and any later tqdm bar on another thread (torch.fx's, in the
    Inspector) waited forever."""
    import threading

    from tqdm import tqdm

    test_cancel("umap")
    free = []

    def try_locks():
        for lock in tqdm.get_lock().locks:
            free.append(lock.acquire(timeout=2))
            if free[-1]:
                lock.release()

    other = threading.Thread(target=try_locks)
    other.start()
    other.join()
    assert free and all(free)


def test_pca_matches_the_svd():
    features, _ = clusters(dim=6)
    projection = project(features, "pca")
    centred = features - features.mean(axis=0)
    _, _, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    expected = centred @ vt[:2].T
    signs = np.sign((projection.coords * expected).sum(axis=0))
    np.testing.assert_allclose(projection.coords * signs, expected, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(projection.transform(features[:5]), projection.coords[:5],
                               rtol=1e-4, atol=1e-4)
    assert project(features[:, :1], "pca").coords.shape == (300, 2)  # 1-D still maps


def test_autoencoder_reports_loss_and_live_maps():
    updates = []
    ctx = PlainContext(on_partial=updates.append)
    features, _ = clusters()
    projection = project(features, "autoencoder", {"epochs": 30, "hidden": 32}, ctx=ctx)
    assert [u.step for u in updates] == list(range(1, 31))
    assert all(isinstance(u, MapUpdate) and u.loss > 0 for u in updates)
    assert updates[-1].coords is not None and updates[-1].coords.shape == (300, 2)
    losses = projection.extras["losses"]
    assert len(losses) == 30 and losses[-1] < 0.5 * losses[0]
    np.testing.assert_allclose(projection.transform(features), projection.coords, atol=1e-5)
    again = project(features, "autoencoder", {"epochs": 30, "hidden": 32})
    np.testing.assert_allclose(again.coords, projection.coords, atol=1e-5)  # seeded


def test_tsne_sends_live_maps():
    updates = []
    project(clusters()[0], "tsne", FAST["tsne"], ctx=PlainContext(on_partial=updates.append))
    assert len(updates) == (250 + 100) // 25
    assert updates[-1].coords.shape == (300, 2) and updates[-1].step == updates[-1].total


def test_bad_input_and_parameters():
    with pytest.raises(InputError, match="at least 3 points"):
        project(np.zeros((2, 4)), "pca")
    with pytest.raises(InputError, match="NaN"):
        project(np.full((5, 4), np.nan), "umap")
    with pytest.raises(InputError, match="perplexity must be at least"):
        project(np.zeros((5, 4)), "tsne", {"perplexity": 0.5})
    with pytest.raises(InputError, match="metric must be one of"):
        project(np.zeros((5, 4)), "umap", {"metric": "hamming"})
    with pytest.raises(InputError, match="unknown projection"):
        project(np.zeros((5, 4)), "isomap")


@pytest.fixture(scope="module")
def shifted_digits(digits_model):
    """Digits moved one pixel right: new points the maps have never seen."""
    from workbench.core.models.digits_data import digit_as_rgb, digits_images

    images, labels = digits_images()
    chosen = np.random.default_rng(0).choice(len(images), 200, replace=False)
    shifted = np.roll(images[chosen], 1, axis=2)
    pairs = [(f"shifted{i}", digit_as_rgb(im)) for i, im in zip(chosen, shifted, strict=True)]
    return extract_features(digits_model, arrays_dataset(pairs), "relu4").features, \
        labels[chosen]


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_digits_separate_in_the_map(method, digits_features, shifted_digits):
    projection = project(digits_features.features, method)
    assert projection.coords.shape == (1797, 2)
    assert knn5(projection.coords, digits_features.labels) >= 0.9
    classifier = KNeighborsClassifier(5).fit(projection.coords, digits_features.labels)
    new_features, new_labels = shifted_digits
    assert classifier.score(projection.transform(new_features), new_labels) >= 0.85
