"""The embedding explorer's core: datasets, cached layer features, 2-D maps, neighbours.

::

    dataset = folder_dataset("photos/")                       # or digits_dataset(), ...
    fs = cached_features(model, dataset, layer=None, ctx=ctx)  # (N, D), cached on disk
    projection = project(fs.features, "umap", {"n_neighbors": 30}, ctx=ctx)
    xy = projection.transform(new_features)                    # place new points
    indices, distances = FeatureIndex(fs.features, "cosine").query(query_features, k=10)

Importing this package registers every projection in :data:`REDUCERS`; umap-learn and
openTSNE are imported only when used.
"""

from workbench.core.embedding import autoencoder, pca, tsne, umap_reducer  # noqa: F401
from workbench.core.embedding.autoencoder import AutoencoderParams
from workbench.core.embedding.base import (
    REDUCERS,
    MapUpdate,
    Projection,
    Reducer,
    get_reducer,
)
from workbench.core.embedding.cache import (
    cache_dir,
    cached_features,
    feature_key,
    load_cached,
    save_cached,
    write_npz_atomic,
)
from workbench.core.embedding.datasets import (
    Dataset,
    Item,
    arrays_dataset,
    digits_dataset,
    files_dataset,
    folder_dataset,
    inputs_dataset,
    open_dataset,
    video_dataset,
)
from workbench.core.embedding.features import (
    FeatureSet,
    default_layer,
    extract_features,
    pool,
)
from workbench.core.embedding.knn import FeatureIndex, nearest
from workbench.core.embedding.pca import PcaParams
from workbench.core.embedding.tsne import TsneParams
from workbench.core.embedding.umap_reducer import UmapParams, enable_numba_cache, warm_up_umap

REDUCER_ORDER = ("pca", "tsne", "umap", "autoencoder")


def project(features, method: str, params=None, ctx=None, device="cpu") -> Projection:
    """Fit the registered ``method`` on ``features`` ``(N, D)``: a :class:`Projection`."""
    return get_reducer(method)(features, params=params, ctx=ctx, device=device)


__all__ = [
    "REDUCERS",
    "REDUCER_ORDER",
    "AutoencoderParams",
    "Dataset",
    "FeatureIndex",
    "FeatureSet",
    "Item",
    "MapUpdate",
    "PcaParams",
    "Projection",
    "Reducer",
    "TsneParams",
    "UmapParams",
    "arrays_dataset",
    "cache_dir",
    "cached_features",
    "default_layer",
    "digits_dataset",
    "enable_numba_cache",
    "extract_features",
    "feature_key",
    "files_dataset",
    "folder_dataset",
    "get_reducer",
    "inputs_dataset",
    "load_cached",
    "nearest",
    "open_dataset",
    "pool",
    "project",
    "save_cached",
    "video_dataset",
    "warm_up_umap",
    "write_npz_atomic",
]
