"""Where a figure came from, so it can be reproduced: model, weights and their SHA-256,
layer, method, parameters, versions, device and date."""

from __future__ import annotations

import datetime
import hashlib

import torch

WEIGHTS_HASH_KEY = "weights_sha256"


def weights_sha256(model) -> str:
    """SHA-256 of the model's parameters and buffers in ``state_dict`` order (computed once
    per loaded model and kept in ``model.extras``)."""
    cached = model.extras.get(WEIGHTS_HASH_KEY)
    if cached:
        return cached
    digest = hashlib.sha256()
    with torch.no_grad():
        for name, tensor in model.module.net.state_dict().items():
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    model.extras[WEIGHTS_HASH_KEY] = digest.hexdigest()
    return model.extras[WEIGHTS_HASH_KEY]


def provenance(model, method: str = "", layer: str | None = None, params: dict | None = None,
               **more) -> dict:
    """The record every exported figure carries (in its metadata, optionally in its caption)."""
    from workbench import __version__

    record = {"model": model.name, "weights": model.source,
              "weights_sha256": weights_sha256(model), "method": method,
              "layer": layer or "", "params": dict(params or {}),
              "workbench": __version__, "torch": torch.__version__,
              "device": str(model.device),
              "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
    record.update(more)
    return record


def caption(record: dict) -> str:
    """One readable paragraph of :func:`provenance`'s record."""
    parts = [f"{record['model']} ({record['weights']}, sha256 {record['weights_sha256'][:12]}…)"]
    if record.get("method"):
        parts.append(record["method"] + (f" at {record['layer']}" if record.get("layer") else ""))
    params = record.get("params") or {}
    if params:
        parts.append(", ".join(f"{k} = {_value(v)}" for k, v in params.items()))
    for key in sorted(set(record) - {"model", "weights", "weights_sha256", "method", "layer",
                                     "params", "workbench", "torch", "device", "date"}):
        parts.append(f"{key.replace('_', ' ')}: {_value(record[key])}")
    parts.append(f"Workbench {record['workbench']}, torch {record['torch']}, {record['device']}, "
                 f"{record['date']}")
    return " · ".join(parts)


def _value(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
