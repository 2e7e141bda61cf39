"""torchvision classification models by name; weights only when the user asks, cached offline.

Pretrained weights live in the standard torch hub folder
(``$TORCH_HOME/hub/checkpoints``).  Loading never downloads unless asked
(``download=True``); without a cached file and without internet it fails at
once with a message that names the missing file.
"""

from __future__ import annotations

import os
import socket
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from workbench.core.jobs import JobContext, PlainContext
from workbench.errors import ModelLoadError, WeightsNotCachedError

VIDEO_FRAMES = 16
CONNECT_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class ZooEntry:
    name: str
    kind: str  # "image" or "video"


@lru_cache(maxsize=1)
def zoo_entries() -> tuple[ZooEntry, ...]:
    from torchvision import models

    images = [ZooEntry(n, "image") for n in models.list_models(module=models)]
    videos = [ZooEntry(n, "video") for n in models.list_models(module=models.video)]
    return tuple(images + videos)


def zoo_entry(name: str) -> ZooEntry | None:
    return next((e for e in zoo_entries() if e.name == name), None)


def default_weights(name: str):
    from torchvision import models

    return models.get_model_weights(name).DEFAULT


def cached_weights_file(name: str) -> Path:
    """Where torch hub keeps (or would keep) the default weights of ``name``."""
    import torch

    filename = os.path.basename(urllib.parse.urlparse(default_weights(name).url).path)
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def weights_cached(name: str) -> bool:
    return cached_weights_file(name).is_file()


def build(name: str, pretrained: bool, download: bool, ctx: JobContext | None = None):
    """Build ``name``; returns ``(net, preprocessing dict, labels, source text)``."""
    import torch
    from torchvision import models

    ctx = ctx or PlainContext()
    weights = default_weights(name)
    entry = zoo_entry(name)
    if pretrained:
        path = cached_weights_file(name)
        if not path.is_file():
            if not download:
                raise WeightsNotCachedError(
                    f"Pretrained weights for {name} are not cached: {path} is missing. "
                    "Ask to download them (GUI: Download; CLI: --download), or use "
                    f"'{name}:random' for random weights"
                )
            _download(weights.url, path, ctx)
        net = models.get_model(name, weights=None, num_classes=len(weights.meta["categories"]),
                               **size_options(name, weights))
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            net.load_state_dict(state)
        except Exception as exc:
            raise ModelLoadError(
                f"Cached weights file {path} is damaged ({exc}); delete it"
            ) from exc
        source = f"torchvision {name}, weights {weights}"
    else:
        net = models.get_model(name, weights=None, num_classes=len(weights.meta["categories"]),
                               **size_options(name, weights))
        source = f"torchvision {name}, random weights"
    transforms = weights.transforms()
    crop = transforms.crop_size
    size = (crop[0], crop[-1])
    prep = {"mean": tuple(transforms.mean), "std": tuple(transforms.std), "input_size": size}
    if entry and entry.kind == "video":
        prep.update(clip_metadata(weights))
    return net, prep, list(weights.meta["categories"]), source


def size_options(name: str, weights) -> dict:
    """Builder options that make the network take its weights' input size: a vision
    transformer's position embedding is built for one size (``vit_h_14``'s default weights
    are at 518 px, its builder's default 224)."""
    if not name.startswith("vit_"):
        return {}
    return {"image_size": int(weights.transforms().crop_size[0])}


def clip_metadata(weights) -> dict:
    """A video model's clip from its weights' metadata: the frame count (at least
    :data:`VIDEO_FRAMES` and the model's ``min_temporal_size``; exactly 16 for MViT) and
    the frame rate its accuracy was measured at (``frame_rate=15`` in its docs)."""
    import re

    frames = max(VIDEO_FRAMES, int(weights.meta.get("min_temporal_size", 1)))
    rate = re.search(r"frame_rate=([\d.]+)", weights.meta.get("_docs", ""))
    return {"num_frames": frames, "frame_rate": float(rate.group(1)) if rate else None}


def _check_reachable(url: str, path: Path) -> None:
    host = urllib.parse.urlparse(url).hostname
    try:
        socket.create_connection((host, 443), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise ModelLoadError(
            f"Cannot download {path.name}: {host} is unreachable ({exc.__class__.__name__}). "
            f"Copy the file to {path} or connect to the internet"
        ) from exc


def _download(url: str, path: Path, ctx: JobContext) -> None:
    """Download ``url`` to ``path`` with progress and cancel; atomic (temp file + rename)."""
    _check_reachable(url, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=30) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(1 << 20):
                ctx.check()
                out.write(chunk)
                done += len(chunk)
                if total:
                    ctx.progress(done / total, f"Downloading {path.name}")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise ModelLoadError(f"Download of {url} failed: {exc}") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
