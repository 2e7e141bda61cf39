"""Worker jobs of the Embeddings tab.  The feature index and the fitted projection stay
opaque to the GUI thread: only jobs use them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class DatasetSpec:
    """What to embed: ``kind`` is "inputs", "folder", "video" or "digits"."""

    kind: str
    path: str = ""
    every: int = 10
    inputs: tuple = ()  # for "inputs": paths and (name, array) pairs

    def open(self):
        from workbench.core.embedding import (
            digits_dataset,
            folder_dataset,
            inputs_dataset,
            video_dataset,
        )

        if self.kind == "digits":
            return digits_dataset()
        if self.kind == "folder":
            return folder_dataset(self.path)
        if self.kind == "video":
            return video_dataset(self.path, self.every)
        return inputs_dataset(list(self.inputs))


@dataclass
class MapData:
    coords: np.ndarray  # (N, 2)
    labels: np.ndarray  # (N,) −1 when unknown
    label_names: list[str]
    names: list[str]
    skipped: list
    layer: str
    method: str
    seconds: float
    from_cache: bool
    dataset: object  # to load thumbnails and open neighbours
    features: object  # FeatureSet (numpy), for exports
    projection: object  # fitted: places new points
    index: object  # FeatureIndex over the original features


def build_map_job(model, spec: DatasetSpec, layer, method, params, metric, ctx) -> MapData:
    from workbench.core.embedding import FeatureIndex, cached_features, project

    dataset = spec.open()
    ctx.progress(0.0, f"Features of {len(dataset)} images")
    features = cached_features(model, dataset, layer, ctx)
    if len(features) < 3:
        from workbench.errors import WorkbenchError

        raise WorkbenchError(f"only {len(features)} readable images: a map needs at least 3")
    projection = project(features.features, method, params, ctx)
    index = FeatureIndex(features.features, metric)
    return MapData(projection.coords, features.labels, list(features.label_names),
                   list(features.names), list(features.skipped), features.layer, method,
                   projection.seconds, features.from_cache, dataset, features, projection, index)


def predictions_job(model, data: MapData, ctx):
    """Top-1 class and all class probabilities of every point (the model's last layer,
    cached like any features).  Probabilities are kept as float16."""
    import torch

    from workbench.core.embedding import cached_features
    from workbench.errors import WorkbenchError

    if not model.is_classifier:
        raise WorkbenchError(f"{model.name} is a {model.task} model: colouring points by "
                             "predicted class needs a classifier (colour by label instead)")
    last = model.layers[-1].name
    logits = cached_features(model, data.dataset, last, ctx).features
    probs = torch.softmax(torch.from_numpy(logits).float(), dim=1).numpy()
    return probs.argmax(axis=1), probs.astype(np.float16)


def neighbours_job(data: MapData, queries: np.ndarray, k: int, metric: str, ctx):
    from workbench.core.embedding import FeatureIndex

    index = data.index if data.index.metric == metric else FeatureIndex(
        data.features.features, metric)
    data.index = index
    return index.query(queries, k)


def image_features_job(model, data: MapData, images, ctx):
    """Features of new images at the map's layer, and where the projection puts them."""
    from workbench.core.embedding import arrays_dataset, extract_features

    dataset = arrays_dataset([(f"new {i}", image) for i, image in enumerate(images)])
    features = extract_features(model, dataset, data.layer, ctx).features
    return features, data.projection.transform(features)


def thumbnail_job(data: MapData, index: int, ctx):
    from workbench.io.thumbnails import make_thumbnail

    return index, make_thumbnail(data.dataset.load(index), side=128)


def warm_umap_job(ctx):
    from workbench.core.embedding import warm_up_umap

    ctx.progress(0.1, "Compiling UMAP (first use only)")
    warm_up_umap(ctx=ctx)
    return True
