"""A user's own checkpoint: TorchScript, a state dict (``.pth`` or ``.safetensors``) for a
named torchvision or timm architecture, or (only with explicit trust) a whole pickled model.

Unpickling runs code from the file, so ``torch.load`` is always called with
``weights_only=True`` unless the user chose "I trust this file"; ``.safetensors`` files are
never unpickled.  State dicts are found in the common layouts (``{"model": …}``,
``{"state_dict": …}``, ``model_state_dict``, EMA weights, ``module.`` prefixes).
"""

from __future__ import annotations

import pickle
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import (
    ArchitectureNeededError,
    CodeNeededError,
    ModelLoadError,
    UntrustedPickleError,
)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DEFAULT_SIZE = 224
# where training scripts keep the weights, most common first; EMA weights only when alone
STATE_KEYS = ("state_dict", "model_state_dict", "model", "net", "network", "weights", "params")
EMA_KEYS = ("state_dict_ema", "model_ema", "ema_state_dict", "ema", "ema_model")
# prefixes of wrappers (DataParallel / DDP, torch.compile; Lightning's ``model.``)
ALWAYS_STRIP = ("module.", "_orig_mod.")
STRIP_IF_FITS = ("model.", "net.", "network.")


@dataclass
class CheckpointOptions:
    """How to read a checkpoint; every field has a sensible default.

    ``input_size``, ``mean`` and ``std`` left ``None`` mean the model's own (from a timm or
    Hugging Face config), else 224 px and ImageNet's; given for a named model, they
    replace its own.
    """

    arch: str | None = None  # torchvision name or timm:NAME of a state dict
    num_classes: int | None = None
    labels_file: str | None = None
    trust: bool = False  # allow unpickling a whole model (runs code from the file)
    input_size: int | tuple[int, int] | None = None  # one number for a square, or (h, w)
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    code: str | None = None  # folder, .py file or module defining a pickled model's class
    multi_label: bool = False  # independent labels: sigmoid, not softmax
    output: str | None = None  # which output of a tuple / dict / object forward is the score


def square_or_pair(size: int | tuple[int, int]) -> tuple[int, int]:
    """An input size given as one number (a square) or ``(h, w)``, as ``(h, w)``."""
    if isinstance(size, int):
        return size, size
    height, width = size
    return int(height), int(width)


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


def build_checkpoint(path, options: CheckpointOptions):
    """``(net, prep, labels, source, kind)`` of a checkpoint file (the registry's contract)."""
    net, hints, source = read_checkpoint(path, options)
    prep = {"mean": hints.get("mean", IMAGENET_MEAN), "std": hints.get("std", IMAGENET_STD),
            "input_size": hints.get("input_size", (DEFAULT_SIZE, DEFAULT_SIZE)),
            "in_channels": hints.get("in_channels") or first_conv_channels(net)}
    prep.update({k: hints[k] for k in ("task", "output", "cam_layer", "extras") if k in hints})
    prep, labels = apply_overrides(options, prep, hints.get("labels", []), options.num_classes)
    return net, prep, labels, source, "image"


def apply_overrides(options: CheckpointOptions, prep: dict, labels: list,
                    num_classes: int | None = None) -> tuple[dict, list]:
    """The user's input size, mean / std, labels file, output and multi-label choice over a
    model's own preprocessing and labels."""
    from workbench.core.models.labels import read_labels_file

    prep = dict(prep)
    if options.input_size:
        prep["input_size"] = square_or_pair(options.input_size)
    for name in ("mean", "std"):
        value = getattr(options, name)
        if value is not None:
            if len(value) != 3 or (name == "std" and min(value) <= 0):
                raise ModelLoadError(f"--{name} must be three numbers R,G,B"
                                     + (" above 0" if name == "std" else "") + f", not {value}")
            prep[name] = tuple(float(v) for v in value)
    if options.output is not None:
        prep["output"] = options.output
    if options.multi_label:
        prep["multi_label"] = True
    if options.labels_file:
        labels = read_labels_file(options.labels_file, len(labels) or num_classes)
    return prep, labels


def read_checkpoint(path, options: CheckpointOptions):
    """Return ``(net, preprocessing hints, source text)`` for a checkpoint file."""
    import torch

    path = Path(path)
    _check_file(path)
    if path.suffix.lower() == ".safetensors":
        state = _load_safetensors(path)
        net, hints = _net_from_state(state, path, options)
        return net, hints, f"{options.arch} safetensors {path.name}"
    from workbench.core.models.graph_layers import read_graph_file

    graph = read_graph_file(path, options.input_size)  # TorchScript or torch.export (.pt2)
    if graph is not None:
        return graph[0], {}, graph[1]
    obj = _load_object(path, options)
    found = find_weights(obj, path)
    if isinstance(found[0], torch.nn.Module):
        return found[0], {}, f"pickled model {path.name} (trusted)"
    state, where = found
    net, hints = _net_from_state(state, path, options)
    return net, hints, f"{options.arch} state dict {path.name}{where}"


def _load_safetensors(path: Path) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelLoadError(f"'{path}' is not a safetensors file ({_short(exc)})") from None


def _load_object(path: Path, options: CheckpointOptions):
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" not in str(exc):
            raise ModelLoadError(
                f"'{path}' is not a PyTorch checkpoint (damaged or another format)"
            ) from None
        if not options.trust:
            raise UntrustedPickleError(
                f"'{path}' is a pickled Python object, and loading it would run code from the "
                "file. Load it only if you trust it (GUI: 'I trust this file'; CLI: --trust)"
            ) from exc
    except Exception as exc:
        raise ModelLoadError(f"'{path}' is not a PyTorch checkpoint ({_short(exc)})") from exc
    if options.code:  # only now, after the user chose to trust the file
        add_code(options.code)
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except (ModuleNotFoundError, AttributeError) as exc:
        missing = getattr(exc, "name", None) or _short(exc)
        raise CodeNeededError(
            f"'{path}' is a pickled model whose class lives in code that cannot be imported "
            f"({missing!r}): name the folder or module that defines it "
            "(GUI: Code folder; CLI: --code DIR)") from exc
    except Exception as exc:
        raise ModelLoadError(f"Cannot unpickle '{path}': {_short(exc)}") from exc


def add_code(code: str) -> None:
    """Put the user's code on the import path: a folder, a ``.py`` file (its folder) or a
    module name (imported)."""
    import importlib

    where = Path(code).expanduser()
    if where.is_dir() or (where.suffix == ".py" and where.is_file()):
        folder = str((where if where.is_dir() else where.parent).resolve())
        if folder not in sys.path:
            sys.path.insert(0, folder)
        return
    try:
        importlib.import_module(code)
    except ImportError as exc:
        raise ModelLoadError(f"--code {code}: no such folder, file or module ({exc})") from None


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__


def _is_state(obj) -> bool:
    import torch

    return isinstance(obj, dict) and bool(obj) and all(
        isinstance(v, torch.Tensor) for v in obj.values())


def find_weights(obj, path: Path, depth: int = 0):
    """``(module, "")`` for a whole model, or ``(state dict, where it was found)``; a clear
    message listing the keys found otherwise."""
    import torch

    if isinstance(obj, torch.nn.Module):
        return obj, ""
    if _is_state(obj):
        return obj, ""
    if isinstance(obj, dict) and depth < 2:
        for key in STATE_KEYS + EMA_KEYS:
            inner = obj.get(key)
            if isinstance(inner, torch.nn.Module) or (isinstance(inner, dict) and inner):
                try:
                    found, where = find_weights(inner, path, depth + 1)
                except ModelLoadError:
                    continue
                label = " (EMA weights)" if key in EMA_KEYS else ""
                return found, where or label
    if isinstance(obj, dict):
        keys = ", ".join(map(str, list(obj)[:12])) + (" …" if len(obj) > 12 else "")
        raise ModelLoadError(
            f"'{path}' holds no state dict of tensors; its keys are: {keys or 'none'} "
            f"(looked in {', '.join(STATE_KEYS + EMA_KEYS)})")
    raise ModelLoadError(f"'{path}' holds a {type(obj).__name__}, neither a model nor a "
                         "state dict of tensors")


def fit_keys(state: dict, own: dict) -> dict:
    """``state`` with wrapper prefixes removed (``module.`` always, ``model.`` when that
    makes more keys match the architecture's own)."""
    state = {k: v for k, v in state.items() if k != "n_averaged"}  # swa_utils.AveragedModel
    for prefix in ALWAYS_STRIP:
        state = {k.removeprefix(prefix): v for k, v in state.items()}
    for prefix in STRIP_IF_FITS:
        if all(k.startswith(prefix) for k in state):
            stripped = {k.removeprefix(prefix): v for k, v in state.items()}
            if len(own.keys() & stripped.keys()) > len(own.keys() & state.keys()):
                state = stripped
    return state


def _make_net(arch: str, num_classes: int):
    """The architecture with random weights, and its own preprocessing hints."""
    if arch.startswith("timm:"):
        import timm

        name = arch.removeprefix("timm:")
        if not timm.is_model(name):
            raise ModelLoadError(f"Unknown timm architecture '{name}'")
        net = timm.create_model(name, pretrained=False, num_classes=num_classes)
        config = timm.data.resolve_model_data_config(net)
        return net, {"mean": tuple(config["mean"]), "std": tuple(config["std"]),
                     "input_size": tuple(config["input_size"][1:])}
    from torchvision import models

    net = models.get_model(arch, weights=None, num_classes=num_classes)
    try:  # the builder's default input size stays (ViTs are built for 224 without weights)
        transforms = models.get_model_weights(arch).DEFAULT.transforms()
        return net, {"mean": tuple(transforms.mean), "std": tuple(transforms.std)}
    except (ValueError, AttributeError, KeyError, TypeError):
        return net, {}


def _check_arch(arch: str | None, path: Path) -> None:
    from torchvision import models

    if not arch:
        raise ArchitectureNeededError(
            f"'{path}' is a state dict: name its architecture "
            "(e.g. --arch resnet18, or --arch timm:resnet18)")
    if not arch.startswith("timm:") and arch not in models.list_models():
        raise ModelLoadError(f"Unknown architecture '{arch}' for state dict '{path}'")


def _net_from_state(state: dict, path: Path, options: CheckpointOptions):
    _check_arch(options.arch, path)
    from workbench.core.models import torchvision_dense

    if torchvision_dense.is_dense(options.arch):  # a detector or segmenter: task and prep too
        return torchvision_dense.net_from_state(state, path, options)
    net, hints = _make_net(options.arch, options.num_classes or 1000)
    own = net.state_dict()
    state = fit_keys(state, own)
    head = _head_key(own, state)
    if options.num_classes is None and head and state[head].shape[0] != own[head].shape[0]:
        net, hints = _make_net(options.arch, int(state[head].shape[0]))
        own = net.state_dict()
    channels = fit_first_conv(net, state)
    if channels in (1, 4):
        hints = {**hints, "in_channels": channels}
        own = net.state_dict()
    problems = _describe_mismatch(own, state)
    if problems:
        raise ModelLoadError(f"State dict '{path}' does not fit {options.arch}: {problems}")
    net.load_state_dict(state)
    options.num_classes = int(own[head].shape[0]) if head else options.num_classes
    return net, hints


def _first_conv(net):
    """``(name, module)`` of the network's first ``Conv2d`` (its input layer), or ``None``."""
    import torch

    for name, module in net.named_modules():
        if isinstance(module, torch.nn.Conv2d):
            return name, module
    return None


def first_conv_channels(net) -> int:
    """The input channels of a built network's first convolution when they are 1 or 4
    (a greyscale or RGBA model), else 3 (also when there is no such layer to read)."""
    found = _first_conv(net)
    channels = found[1].in_channels if found is not None else 3
    return channels if channels in (1, 4) else 3


def fit_first_conv(net, state: dict) -> int:
    """Give the architecture's first convolution the input channels of the state dict's
    (1 or 4: a greyscale or RGBA checkpoint) and return them; 3 leaves it as built."""
    import torch

    found = _first_conv(net)
    if found is None:
        return 3
    name, conv = found
    weight = state.get(f"{name}.weight")
    if weight is None or weight.ndim != 4 or conv.groups != 1:
        return conv.in_channels
    channels = int(weight.shape[1])
    if channels == conv.in_channels or channels not in (1, 4):
        return conv.in_channels
    new = torch.nn.Conv2d(channels, conv.out_channels, conv.kernel_size, conv.stride,
                          conv.padding, conv.dilation, 1, conv.bias is not None,
                          conv.padding_mode)
    parent, _, leaf = name.rpartition(".")
    setattr(net.get_submodule(parent) if parent else net, leaf, new)
    return channels


def _head_key(own: dict, state: dict) -> str | None:
    """The classifier's weight: the architecture's last 2-D parameter that the file has."""
    keys = [k for k, v in own.items() if v.ndim == 2 and k in state and state[k].ndim == 2]
    return keys[-1] if keys else None


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
