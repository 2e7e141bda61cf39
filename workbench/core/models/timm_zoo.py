"""timm models by name (``timm:NAME``, ``timm:NAME:random``): preprocessing, labels, CAM layer.

Everything comes from the model itself: the preprocessing from timm's
``resolve_model_data_config`` (input size, interpolation, crop, mean / std), the
labels from timm's own ImageNet class info when the head is an ImageNet head,
and the default CAM layer from the model's ``feature_info`` (the last feature
stage whose positions still reach the logits: a ViT's last block does not when
it pools its class token).

Pretrained weights are read from the Hugging Face cache (or, for the few models
that only have a URL, the torch hub folder).  Loading never touches the network
unless the user asks (``download=True``); a cache miss names the repository and
file that are missing.  ``timm:NAME:random`` always works offline.
"""

from __future__ import annotations

import difflib
import os
import socket
from pathlib import Path

import timm  # the registry turns its absence into 'pip install -e ".[timm]"'

from workbench.core.jobs import JobContext, PlainContext
from workbench.errors import ModelLoadError, WeightsNotCachedError

HF_FILES = ("model.safetensors", "pytorch_model.bin")  # what timm looks for on the hub
HF_HOST = "huggingface.co"
CONNECT_TIMEOUT_S = 3.0
EXAMPLES = ("resnet50.a1_in1k", "vit_small_patch16_224", "convnext_tiny", "efficientnet_b0",
            "swin_tiny_patch4_window7_224", "deit_small_patch16_224")


def build(name: str, pretrained: bool, download: bool, ctx: JobContext | None = None,
          seed: int = 0):
    """``(net, prep, labels, source, kind)`` of ``timm:name`` (the registry seeds random
    weights before calling)."""
    ctx = ctx or PlainContext()
    check_name(name)
    if not pretrained:
        net = create(name)
        source = f"timm {name}, random weights" + (f" (seed {seed})" if seed else "")
    else:
        net, source = _pretrained(name, download, ctx)
    return net, preprocessing(net, cam_layer=True), labels_of(net), source, "image"


def create(name: str, pretrained: bool = False, **kwargs):
    """``timm.create_model`` with a one-line message on failure."""
    try:
        return timm.create_model(name, pretrained=pretrained, **kwargs)
    except (RuntimeError, ValueError, TypeError, KeyError, AssertionError) as exc:
        raise ModelLoadError(f"timm cannot build {name}: {str(exc).splitlines()[0]}") from exc


def check_name(name: str) -> None:
    """Raise a clear error (with close names) unless timm knows ``name``."""
    if timm.is_model(name):
        return
    close = difflib.get_close_matches(name.split(".")[0], timm.list_models(), n=4, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ModelLoadError(f"timm has no model '{name}'{hint} (timm.list_models() lists them)")


def weights_location(name: str) -> tuple[str, Path | None]:
    """``(where the weights come from, the cached file or None)`` for ``name``'s default
    pretrained weights; never touches the network."""
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(name)
    if cfg is None:
        raise ModelLoadError(f"timm has no pretrained weights for {name}; use '{name}:random'")
    if cfg.hf_hub_id:
        from huggingface_hub import try_to_load_from_cache

        files = (cfg.hf_hub_filename,) if cfg.hf_hub_filename else HF_FILES
        for filename in files:
            found = try_to_load_from_cache(cfg.hf_hub_id, filename)
            if isinstance(found, str) and os.path.isfile(found):
                return f"{cfg.hf_hub_id}/{filename}", Path(found)
        return f"Hugging Face repository {cfg.hf_hub_id} (file {files[0]})", None
    if cfg.url:
        import torch

        path = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(cfg.url)
        return str(path), path if path.is_file() else None
    raise ModelLoadError(f"timm has no pretrained weights for {name}; use '{name}:random'")


def weights_cached(name: str) -> bool:
    try:
        return weights_location(name)[1] is not None
    except ModelLoadError:
        return False


def _pretrained(name: str, download: bool, ctx: JobContext):
    where, path = weights_location(name)
    if path is not None:
        ctx.progress(0.2, f"Reading {path.name}")
        net = create(name, pretrained=True, pretrained_cfg_overlay={"file": str(path)})
        return net, f"timm {name}, weights {where}"
    if not download:
        raise WeightsNotCachedError(
            f"Pretrained weights for timm:{name} are not cached: {where} is missing from the "
            "Hugging Face cache. Ask to download them (GUI: Download; CLI: --download), or "
            f"use 'timm:{name}:random' for random weights")
    try:
        socket.create_connection((HF_HOST, 443), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise ModelLoadError(
            f"Cannot download {where}: {HF_HOST} is unreachable ({exc.__class__.__name__}); "
            f"use 'timm:{name}:random' offline") from exc
    ctx.progress(0.2, f"Downloading {where}")
    try:
        net = create(name, pretrained=True)
    except (OSError, ModelLoadError) as exc:
        raise ModelLoadError(f"Download of {where} failed: {str(exc).splitlines()[0]}") from exc
    return net, f"timm {name}, weights {where} (downloaded)"


def preprocessing(net, cam_layer: bool = False) -> dict:
    """The model's own eval preprocessing as Workbench's ``prep`` dict.

    The input size follows the built network where it says (a ViT built with another
    ``img_size``), else timm's data config.  With ``cam_layer`` the default CAM layer
    from the feature info is added (``prep["cam_layer"]``).
    """
    from timm.data import resolve_model_data_config

    cfg = resolve_model_data_config(net)
    size = tuple(int(s) for s in cfg["input_size"][-2:])
    for owner in (getattr(net, "patch_embed", None), net):
        built = getattr(owner, "img_size", None)
        built = (built, built) if isinstance(built, int) else built
        if isinstance(built, (tuple, list)) and len(built) == 2 and all(built):
            size = tuple(int(s) for s in built)
            break
    prep = {"mean": tuple(float(m) for m in cfg["mean"]),
            "std": tuple(float(s) for s in cfg["std"]), "input_size": size,
            "extras": {"interpolation": cfg.get("interpolation") or "bilinear",
                       "crop_pct": float(cfg.get("crop_pct") or 1.0),
                       "crop_mode": cfg.get("crop_mode") or "center"}}
    if cam_layer:
        layer = feature_cam_layer(net, size)
        if layer:
            prep["cam_layer"] = layer
    return prep


def labels_of(net) -> list[str]:
    """ImageNet class names from timm's class info when the head is an ImageNet head
    (first WordNet lemma: ``tench``, ``goldfish``…); otherwise none (generic labels)."""
    from timm.data import ImageNetInfo, infer_imagenet_subset

    subset = infer_imagenet_subset(net)
    if not subset:
        return []
    try:
        info = ImageNetInfo(subset)
    except (AssertionError, OSError, ValueError):
        return []
    if info.num_classes() != getattr(net, "num_classes", None):
        return []
    return [text.split(",")[0].strip() for text in info.label_descriptions()]


def feature_cam_layer(net, size) -> str | None:
    """The last ``feature_info`` module whose positions reach the logits.

    Without prefix tokens the last stage feeds the (pooling) head, so it is taken
    without running the model; with class / register tokens one forward and a partial
    backward (from a random projection of the logits, to the token outputs only) shows
    which blocks' patch tokens still matter (a class-token head ignores the last one's).
    """
    names = [f["module"] for f in getattr(net, "feature_info", None) or [] if f.get("module")]
    modules = dict(net.named_modules())
    names = [n for n in dict.fromkeys(names) if n in modules]
    if not names:
        return None
    if not getattr(net, "num_prefix_tokens", 0):
        return names[-1]
    return _live_layer(net, names, size) or names[-1]


def _live_layer(net, names, size) -> str | None:
    import torch

    outputs: dict = {}
    handles = [net.get_submodule(n).register_forward_hook(
        lambda _m, _i, out, n=n: outputs.__setitem__(n, out[0] if isinstance(
            out, (tuple, list)) else out)) for n in names[-3:]]
    was_training = net.training
    try:
        net.eval()
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(1, 3, *size, generator=gen)
        with torch.enable_grad():
            try:
                logits = net(x)
            except Exception:  # noqa: BLE001 - wrap_model reports a failing forward
                return None
            tensors = [(n, outputs[n]) for n in names[-3:] if isinstance(
                outputs.get(n), torch.Tensor) and outputs[n].requires_grad]
            if not tensors or not isinstance(logits, torch.Tensor):
                return None
            if tensors[-1][1].ndim != 3:  # a spatial stage feeds the head
                return tensors[-1][0]
            direction = torch.randn(logits.shape, generator=gen)
            grads = torch.autograd.grad((logits * direction).sum(), [t for _, t in tensors],
                                        allow_unused=True)
    finally:
        for handle in handles:
            handle.remove()
        net.train(was_training)
    prefix = int(getattr(net, "num_prefix_tokens", 0) or 0)
    live = [n for (n, t), g in zip(tensors, grads, strict=True) if g is not None and (
        g[:, prefix:] if g.ndim == 3 and g.shape[1] > prefix else g).abs().sum() > 0]
    return live[-1] if live else None
