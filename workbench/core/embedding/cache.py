"""Features cached on disk, so a second look at the same dataset loads instantly.

The key hashes everything the features depend on: the model (name, source and
a digest of its weights), the layer, the preprocessing (input size, centre
crop, antialiased resize, pooling rule) and the dataset's fingerprint (file
list with sizes and modification times, or the arrays' bytes).  Touching or
rewriting one file gives a new key.  Entries are uncompressed ``.npz`` files
written atomically under ``$WORKBENCH_CACHE_DIR`` (else
``$XDG_CACHE_HOME/workbench/features``, default ``~/.cache/workbench/features``).
"""

from __future__ import annotations

import hashlib
import json
import os
import weakref
from pathlib import Path

import numpy as np
import torch

from workbench.core.embedding.features import (
    DEFAULT_WORKERS,
    FeatureSet,
    default_layer,
    extract_features,
)
from workbench.core.jobs import JobContext, PlainContext

CACHE_VERSION = 1
PREPROCESSING = {"crop": "centre", "resize": "bilinear-antialias", "pooling": "mean|cls-token"}
_DIGESTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SAMPLE = 4096  # values hashed per weight tensor (evenly strided)


def cache_dir() -> Path:
    """Where cached features live (see the module docstring)."""
    override = os.environ.get("WORKBENCH_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    return base / "workbench" / "features"


def weights_digest(module: torch.nn.Module) -> str:
    """A hash of every parameter and buffer (strided samples of large ones); memoized."""
    cached = _DIGESTS.get(module)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with torch.no_grad():
        for name, tensor in list(module.state_dict().items()):
            flat = tensor.detach().reshape(-1)
            step = max(1, flat.numel() // _SAMPLE)
            sample = flat[::step].to("cpu", torch.float64).numpy()
            digest.update(f"{name}{tuple(tensor.shape)}{float(flat.double().sum())}".encode())
            digest.update(sample.tobytes())
    _DIGESTS[module] = digest.hexdigest()
    return _DIGESTS[module]


def key_fields(model, dataset, layer: str) -> dict:
    """What the cache key is made of, readable."""
    return {
        "version": CACHE_VERSION, "model": model.name, "source": model.source,
        "weights": weights_digest(model.module), "layer": layer, "kind": model.kind,
        "input_size": list(model.input_size), "num_frames": model.num_frames,
        "preprocessing": PREPROCESSING, "dataset": dataset.fingerprint(),
    }


def feature_key(model, dataset, layer: str | None = None) -> str:
    """The cache key of ``dataset``'s features at ``layer`` of ``model``."""
    fields = key_fields(model, dataset, layer or default_layer(model))
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:40]


def entry_path(key: str, folder=None) -> Path:
    return Path(folder or cache_dir()) / f"{key}.npz"


def load_cached(key: str, folder=None) -> FeatureSet | None:
    """The cached features for ``key``, or ``None`` (also for an unreadable entry)."""
    path = entry_path(key, folder)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return _from_arrays(data, key)
    except (OSError, ValueError, KeyError):
        return None


def save_cached(key: str, features: FeatureSet, folder=None) -> Path:
    """Write ``features`` under ``key`` atomically."""
    path = entry_path(key, folder)
    write_npz_atomic(path, **_to_arrays(features))
    return path


def write_npz_atomic(path, **arrays) -> Path:
    """``np.savez`` (uncompressed: fast to load) through a temporary file and ``os.replace``."""
    from workbench.io.atomic import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    return Path(path)


def _strings(values) -> np.ndarray:
    return np.array(list(values), dtype=str) if len(values) else np.zeros(0, dtype="<U1")


def _to_arrays(fs: FeatureSet) -> dict:
    return {
        "features": fs.features, "labels": fs.labels, "names": _strings(fs.names),
        "label_names": _strings(fs.label_names),
        "skipped_paths": _strings([p for p, _ in fs.skipped]),
        "skipped_problems": _strings([m for _, m in fs.skipped]),
        "indices": fs.indices if fs.indices is not None else np.arange(len(fs.names)),
        "meta": np.array(json.dumps({"model": fs.model, "layer": fs.layer})),
    }


def _from_arrays(data, key: str) -> FeatureSet:
    meta = json.loads(str(data["meta"]))
    skipped = list(zip(data["skipped_paths"].tolist(), data["skipped_problems"].tolist(),
                       strict=True))
    return FeatureSet(
        features=data["features"].astype(np.float32, copy=False),
        labels=data["labels"].astype(np.int64, copy=False),
        names=data["names"].tolist(), label_names=data["label_names"].tolist(),
        skipped=skipped, model=meta["model"], layer=meta["layer"],
        indices=data["indices"], key=key, from_cache=True,
    )


def cached_features(model, dataset, layer: str | None = None, ctx: JobContext | None = None,
                    batch_size: int = 0, workers: int = DEFAULT_WORKERS, folder=None,
                    use_cache: bool = True) -> FeatureSet:
    """:func:`extract_features`, read from the cache when the key matches, else stored there."""
    ctx = ctx or PlainContext()
    layer = layer or default_layer(model)
    model.layer_module(layer)
    if not use_cache:
        return extract_features(model, dataset, layer, ctx, batch_size, workers)
    ctx.progress(0.0, "Checking the feature cache")
    key = feature_key(model, dataset, layer)
    found = load_cached(key, folder)
    if found is not None:
        ctx.progress(1.0, f"Loaded {len(found)} cached features")
        return found
    features = extract_features(model, dataset, layer, ctx, batch_size, workers)
    features.key = key
    try:
        save_cached(key, features, folder)
    except OSError:
        pass  # a read-only or full cache folder must not lose the computed features
    return features
