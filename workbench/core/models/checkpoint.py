"""A user's own checkpoint: TorchScript, a state dict for a named torchvision
architecture, or (only with explicit trust) a whole pickled model.

Unpickling runs code from the file, so ``torch.load`` is always called with
``weights_only=True`` unless the user chose "I trust this file".
"""

from __future__ import annotations

import pickle
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ArchitectureNeededError, ModelLoadError, UntrustedPickleError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class CheckpointOptions:
    """How to read a checkpoint; every field has a sensible default."""

    arch: str | None = None  # torchvision architecture for a state dict
    num_classes: int | None = None
    labels_file: str | None = None
    trust: bool = False  # allow unpickling a whole model (runs code from the file)
    input_size: int = 224
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ModelLoadError(f"Cannot load checkpoint '{path}': file not found")
    if path.is_dir():
        raise ModelLoadError(f"Cannot load checkpoint '{path}': it is a folder, not a file")
    if path.stat().st_size == 0:
        raise ModelLoadError(f"Cannot load checkpoint '{path}': the file is empty")


def is_torchscript(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return any(n.split("/", 1)[-1].startswith("code/") for n in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def read_checkpoint(path, options: CheckpointOptions):
    """Return ``(net, num_classes_hint, source text)`` for a checkpoint file."""
    import torch

    path = Path(path)
    _check_file(path)
    if is_torchscript(path):
        try:
            with warnings.catch_warnings():  # TorchScript is deprecated, still widely used
                warnings.simplefilter("ignore", FutureWarning)
                net = torch.jit.load(str(path), map_location="cpu")
        except Exception as exc:
            raise ModelLoadError(f"Cannot load TorchScript file '{path}': {exc}") from exc
        return net, options.num_classes, f"TorchScript {path.name}"
    obj = _load_object(path, options.trust)
    if isinstance(obj, torch.nn.Module):
        return obj, options.num_classes, f"pickled model {path.name} (trusted)"
    state = _state_dict_of(obj, path)
    return _net_from_state(state, path, options), options.num_classes, (
        f"{options.arch} state dict {path.name}"
    )


def _load_object(path: Path, trust: bool):
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" not in str(exc):
            raise ModelLoadError(
                f"'{path}' is not a PyTorch checkpoint (damaged or another format)"
            ) from None
        if not trust:
            raise UntrustedPickleError(
                f"'{path}' is a pickled Python object, and loading it would run code from the "
                "file. Load it only if you trust it (GUI: 'I trust this file'; CLI: --trust)"
            ) from exc
    except Exception as exc:
        raise ModelLoadError(f"'{path}' is not a PyTorch checkpoint ({_short(exc)})") from exc
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise ModelLoadError(f"Cannot unpickle '{path}': {_short(exc)}") from exc


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__


def _state_dict_of(obj, path: Path) -> dict:
    import torch

    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return {k.removeprefix("module."): v for k, v in obj.items()}
    raise ModelLoadError(f"'{path}' holds neither a model nor a state dict of tensors")


def _net_from_state(state: dict, path: Path, options: CheckpointOptions):
    from torchvision import models

    if not options.arch:
        raise ArchitectureNeededError(
            f"'{path}' is a state dict: name its architecture (e.g. --arch resnet18)"
        )
    if options.arch not in models.list_models():
        raise ModelLoadError(f"Unknown architecture '{options.arch}' for state dict '{path}'")
    num_classes = options.num_classes or _classes_in_state(state)
    net = models.get_model(options.arch, weights=None, num_classes=num_classes)
    problems = _describe_mismatch(net.state_dict(), state)
    if problems:
        raise ModelLoadError(f"State dict '{path}' does not fit {options.arch}: {problems}")
    net.load_state_dict(state)
    options.num_classes = num_classes
    return net


def _classes_in_state(state: dict) -> int:
    last_2d = [v for v in state.values() if v.ndim == 2]
    return int(last_2d[-1].shape[0]) if last_2d else 1000


def _describe_mismatch(own: dict, state: dict) -> str:
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f"{k} is {tuple(v.shape)}, expected {tuple(own[k].shape)}"
        for k, v in state.items()
        if k in own and own[k].shape != v.shape
    ]
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing keys ({', '.join(missing[:3])})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys ({', '.join(unexpected[:3])})")
    if shapes:
        parts.append("; ".join(shapes[:3]))
    return "; ".join(parts)
