"""Hugging Face image classifiers: ``hf:ORG/NAME`` from the local cache, or a folder saved
with ``save_pretrained``.

Any ``AutoModelForImageClassification`` model loads with its ``AutoImageProcessor``
(size, crop, mean / std go into the preprocessing), its labels from ``config.id2label``,
and a multi-label head when ``config.problem_type`` says so.  The hub is never asked
unless the user asked to download (``local_files_only`` otherwise, as with
``HF_HUB_OFFLINE``).  The forward returns a ``ModelOutput``; the registry picks its
``logits`` (``workbench.core.models.outputs``).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from workbench.core.jobs import JobContext, PlainContext
from workbench.errors import ModelLoadError, WeightsNotCachedError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DEFAULT_SIZE = 224


def build(name: str, pretrained: bool, download: bool, ctx: JobContext | None = None,
          seed: int = 0):
    """``(net, prep, labels, source, kind)`` of a Hugging Face model (folder or hub name)."""
    ctx = ctx or PlainContext()
    local = Path(name).expanduser().is_dir()
    source_name = str(Path(name).expanduser()) if local else name
    offline = local or not download
    ctx.progress(0.1, f"Reading {name}")
    with quiet_transformers():
        config = _config(source_name, offline, local)
        net = _network(source_name, config, pretrained, offline, local)
        processor = _processor(source_name, offline)
    prep = preprocessing(processor, config)
    if getattr(config, "problem_type", None) == "multi_label_classification":
        prep["multi_label"] = True
    labels = labels_of(config)
    where = f"folder {source_name}" if local else source_name
    weights = "weights" if pretrained else "random weights"
    return net, prep, labels, f"Hugging Face {type(net).__name__} ({where}, {weights})", "image"


@contextlib.contextmanager
def quiet_transformers():
    """No progress bars or info lines from transformers on the user's terminal."""
    from transformers.utils import logging as hf_logging

    bars, level = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def _not_cached(name: str) -> WeightsNotCachedError:
    return WeightsNotCachedError(
        f"Hugging Face model '{name}' is not in the local cache (offline). Ask to download "
        "it (GUI: Download; CLI: --download), or give a folder saved with save_pretrained")


def _config(name: str, offline: bool, local: bool):
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(name, local_files_only=offline)
    except OSError as exc:
        if local:
            raise ModelLoadError(f"Cannot read the Hugging Face config in '{name}': "
                                 f"{_short(exc)}") from None
        if offline:
            raise _not_cached(name) from None
        raise ModelLoadError(f"Cannot download Hugging Face model '{name}': {_short(exc)}") \
            from None
    except ValueError as exc:
        raise ModelLoadError(f"'{name}' is not a model transformers knows: {_short(exc)}") \
            from None


def _network(name: str, config, pretrained: bool, offline: bool, local: bool):
    from transformers import AutoModelForImageClassification

    try:
        if not pretrained:
            return AutoModelForImageClassification.from_config(config)
        return AutoModelForImageClassification.from_pretrained(
            name, config=config, local_files_only=offline)
    except OSError as exc:
        if offline and not local:
            raise _not_cached(name) from None
        raise ModelLoadError(f"Cannot load the weights of Hugging Face model '{name}': "
                             f"{_short(exc)} (use '{name}:random' for random weights)") from None
    except ValueError as exc:
        raise ModelLoadError(f"Hugging Face model '{name}' is not an image classifier "
                             f"({_short(exc)})") from None


def _processor(name: str, offline: bool):
    """The model's image processor, or ``None`` when it has none (its config then says)."""
    from transformers import AutoImageProcessor

    try:
        return AutoImageProcessor.from_pretrained(name, local_files_only=offline)
    except (OSError, ValueError, KeyError):
        return None


def _size_of(value) -> tuple[int, int] | None:
    """A processor's ``size`` / ``crop_size`` (dict, int or object) as ``(h, w)``."""
    if value is None:
        return None
    if isinstance(value, int):
        return value, value
    get = value.get if isinstance(value, dict) else (lambda key: getattr(value, key, None))
    if get("height") and get("width"):
        return int(get("height")), int(get("width"))
    edge = get("shortest_edge")
    return (int(edge), int(edge)) if edge else None


def preprocessing(processor, config) -> dict:
    """Input size, mean and std from the processor (its crop when it crops), else from the
    config (``image_size``) with ImageNet statistics."""
    size = None
    mean, std = IMAGENET_MEAN, IMAGENET_STD
    if processor is not None:
        if getattr(processor, "do_center_crop", False):
            size = _size_of(getattr(processor, "crop_size", None))
        size = size or _size_of(getattr(processor, "size", None))
        if getattr(processor, "do_normalize", True):
            mean = _three(getattr(processor, "image_mean", None), IMAGENET_MEAN)
            std = _three(getattr(processor, "image_std", None), IMAGENET_STD)
        else:
            mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    if size is None:
        size = _size_of(getattr(config, "image_size", None)) or (DEFAULT_SIZE, DEFAULT_SIZE)
    return {"mean": mean, "std": std, "input_size": size}


def _three(value, default) -> tuple[float, float, float]:
    if value is None:
        return default
    if isinstance(value, (int, float)):
        return (float(value),) * 3
    values = tuple(float(v) for v in value)
    return values if len(values) == 3 else default


def labels_of(config) -> list[str]:
    """``config.id2label`` in index order (keys may be strings after a JSON round trip)."""
    id2label = getattr(config, "id2label", None) or {}
    pairs = sorted((int(k), str(v)) for k, v in id2label.items())
    if [i for i, _ in pairs] != list(range(len(pairs))):
        return []
    return [label for _, label in pairs]


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
