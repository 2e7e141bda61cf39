"""One entry point, :func:`load_model`, for every kind of model the app can open."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench.core.jobs import JobContext, PlainContext
from workbench.core.models import builtin, task_outputs, torchvision_dense, torchvision_zoo
from workbench.core.models.checkpoint import CheckpointOptions, build_checkpoint
from workbench.core.models.introspect import (
    default_cam_layer,
    describe_layers,
    dry_pass,
    freeze,
)
from workbench.core.models.loaded import LoadedModel, PixelModel
from workbench.core.models.task_outputs import CLASSIFICATION
from workbench.errors import ModelLoadError

DEFAULT_MODEL = "efficientnet_lite0"
RANDOM_SUFFIX = ":random"
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt", ".ts", ".jit", ".bin", ".pkl", ".safetensors",
                       ".pt2")


@dataclass(frozen=True)
class ModelListing:
    """A row of ``workbench models``."""

    name: str
    kind: str
    description: str
    offline: bool
    weights: str | None


# model zoos named by a prefix (``timm:NAME``, ``hf:ORG/NAME``, ``clip:ARCH``): each module
# has ``build(name, pretrained, download, ctx, seed) -> (net, prep, labels, source, kind)``
ZOOS = {"timm": "workbench.core.models.timm_zoo", "hf": "workbench.core.models.hf_zoo",
        "clip": "workbench.core.models.clip_zoo"}


@dataclass(frozen=True)
class ParsedSpec:
    family: str  # "builtin", "torchvision", "torchvision_dense", "checkpoint" or a ZOOS key
    name: str
    pretrained: bool = True
    seed: int = 0  # of random weights: NAME:random:SEED (default 0) is the same model each time


def split_random(spec: str) -> tuple[str, bool, int]:
    """``NAME``, ``NAME:random`` or ``NAME:random:SEED`` → (NAME, random?, seed)."""
    head, sep, tail = spec.rpartition(RANDOM_SUFFIX + ":")
    if sep and tail.isdigit():
        return head, True, int(tail)
    if spec.endswith(RANDOM_SUFFIX):
        return spec[: -len(RANDOM_SUFFIX)], True, 0
    return spec, False, 0


def parse_spec(spec: str) -> ParsedSpec:
    spec = spec.strip()
    if spec in builtin.BUILDERS:
        return ParsedSpec("builtin", spec)
    base, random, seed = split_random(spec)
    prefix, colon, rest = base.partition(":")
    if colon and prefix in ZOOS and rest:
        return ParsedSpec(prefix, rest, pretrained=not random, seed=seed)
    if torchvision_zoo.zoo_entry(base) is not None:
        return ParsedSpec("torchvision", base, pretrained=not random, seed=seed)
    if torchvision_dense.is_dense(base):  # detectors and segmenters
        return ParsedSpec("torchvision_dense", base, pretrained=not random, seed=seed)
    if (Path(base) / "config.json").is_file():  # a folder saved with save_pretrained
        return ParsedSpec("hf", base, pretrained=not random, seed=seed)
    if Path(spec).exists() or spec.lower().endswith(CHECKPOINT_SUFFIXES) or "/" in spec:
        return ParsedSpec("checkpoint", spec)
    raise ModelLoadError(
        f"Unknown model '{spec}'. Run 'workbench models' for the list, or give a checkpoint file"
    )


def available_models() -> list[ModelListing]:
    rows = [
        ModelListing(b.name, b.kind, b.description, True, None) for b in builtin.BUILTINS
    ]
    for entry in torchvision_zoo.zoo_entries():
        cached = torchvision_zoo.weights_cached(entry.name)
        rows.append(
            ModelListing(
                entry.name,
                entry.kind,
                f"torchvision {entry.name} (pretrained; '{entry.name}:random' works offline)",
                cached,
                str(torchvision_zoo.cached_weights_file(entry.name)),
            )
        )
    return rows + dense_listings() + timm_examples()


def dense_listings() -> list[ModelListing]:
    """torchvision's detectors and segmenters, their task in the description."""
    return [ModelListing(name, "image", f"torchvision {name} ({task}; pretrained; "
                         f"'{name}:random' works offline)", torchvision_zoo.weights_cached(name),
                         str(torchvision_zoo.cached_weights_file(name)))
            for name, task in torchvision_dense.names_and_tasks()]


def timm_examples() -> list[ModelListing]:
    """A handful of ``timm:NAME`` examples (any of timm's ~1 200 names works), if installed."""
    import importlib.util

    if importlib.util.find_spec("timm") is None:
        return []
    from workbench.core.models import timm_zoo

    return [ModelListing(f"timm:{name}", "image", f"timm {name} (pretrained from the Hugging "
                         f"Face cache; 'timm:{name}:random' works offline)",
                         timm_zoo.weights_cached(name), None) for name in timm_zoo.EXAMPLES]


def load_model(
    spec: str,
    device="cpu",
    download: bool = False,
    checkpoint: CheckpointOptions | None = None,
    ctx: JobContext | None = None,
) -> LoadedModel:
    """Build, wrap, freeze and introspect a model.

    Parameters
    ----------
    spec
        Built-in name, torchvision name (``resnet50``, ``resnet50:random``) or checkpoint path.
    device
        ``"cpu"``, ``"cuda:0"``, ``"mps"`` or a ``torch.device``.
    download
        Allow fetching torchvision weights that are not cached yet.
    checkpoint
        Options for a checkpoint file (architecture, classes, labels, trust).
    """
    from workbench.core.device import resolve_device

    ctx = ctx or PlainContext()
    device = resolve_device(str(device))
    parsed = parse_spec(spec)
    ctx.progress(0.05, f"Building {parsed.name}")
    with seeded(parsed):
        net, prep, labels, source, kind = _build(parsed, download, checkpoint, ctx)
    if checkpoint is not None and parsed.family != "checkpoint":
        from workbench.core.models.checkpoint import apply_overrides

        prep, labels = apply_overrides(checkpoint, prep, labels)
        if parsed.family == "torchvision_dense":  # a detector's resize follows --input-size
            torchvision_dense.finish_net(net, prep["input_size"])
    ctx.check()
    name = parsed.name if parsed.family not in ZOOS else f"{parsed.family}:{parsed.name}"
    name = name if parsed.pretrained else name + RANDOM_SUFFIX + (
        f":{parsed.seed}" if parsed.seed else "")
    return wrap_model(net, prep, labels, name, source, kind, device, ctx)


def seeded(parsed: ParsedSpec):
    """Random weights drawn from the spec's seed, so that two commands on ``NAME:random``
    see the same model (the caller's random state is left as it was)."""
    import contextlib

    import torch

    if parsed.pretrained:
        return contextlib.nullcontext()
    stack = contextlib.ExitStack()
    stack.enter_context(torch.random.fork_rng(devices=[]))
    torch.manual_seed(parsed.seed)
    return stack


def _build(parsed: ParsedSpec, download: bool, checkpoint, ctx):
    """``(net, prep, labels, source, kind)`` of a parsed spec."""
    if parsed.family == "builtin":
        net, prep, labels, source = builtin.BUILDERS[parsed.name]()
        kind = builtin.entry(parsed.name).kind
    elif parsed.family == "torchvision":
        net, prep, labels, source = torchvision_zoo.build(
            parsed.name, parsed.pretrained, download, ctx
        )
        kind = torchvision_zoo.zoo_entry(parsed.name).kind
    elif parsed.family == "torchvision_dense":
        net, prep, labels, source, kind = torchvision_dense.build(
            parsed.name, parsed.pretrained, download, ctx)
    elif parsed.family in ZOOS:
        net, prep, labels, source, kind = zoo_module(parsed.family).build(
            parsed.name, parsed.pretrained, download, ctx, parsed.seed)
    else:
        net, prep, labels, source, kind = _from_checkpoint(parsed.name, checkpoint)
    return net, prep, labels, source, kind


def zoo_module(family: str):
    """The module of a prefixed zoo; a clear message when its library is not installed."""
    import importlib

    try:
        return importlib.import_module(ZOOS[family])
    except ModuleNotFoundError as exc:
        missing = exc.name or family
        raise ModelLoadError(
            f"'{family}:' models need the package '{missing}': pip install -e \".[{family}]\" "
            f"(or \".[models]\" for timm, Hugging Face and CLIP)") from exc


def _from_checkpoint(path: str, options: CheckpointOptions | None):
    return build_checkpoint(path, options or CheckpointOptions())


def wrap_model(net, prep, labels, name, source, kind, device, ctx=None) -> LoadedModel:
    """Wrap a plain network taking normalized input into a :class:`LoadedModel`."""
    import torch

    ctx = ctx or PlainContext()
    pixel_model = PixelModel(net, prep["mean"], prep["std"], grey=prep.get("grey", False),
                             in_channels=prep.get("in_channels"))
    freeze(pixel_model).to(device)
    frames = prep.get("num_frames", 0)
    h, w = prep["input_size"]
    shape = (1, 3, frames, h, w) if kind == "video" else (1, 3, h, w)
    ctx.progress(0.6, f"Inspecting layers of {name}")
    try:
        dry = dry_pass(pixel_model, shape, device)
        count, candidates, shapes = _output_count(pixel_model, dry.output, shape, prep, name)
        layers, order = describe_layers(pixel_model, shape, device, dry)
    except (torch.cuda.OutOfMemoryError, ModelLoadError):
        raise
    except Exception as exc:
        raise ModelLoadError(
            f"Model {name} fails on a {tuple(shape)} input: {str(exc).splitlines()[0]}"
        ) from exc
    labels = _fit_labels(labels, count, name)
    chosen = {layer.name: layer for layer in layers}.get(prep.get("cam_layer"))
    cam = chosen.name if chosen is not None and chosen.has_grid else default_cam_layer(
        pixel_model, layers, order, shape, device, dry)  # a zoo's own choice (timm: feature info)
    ctx.progress(1.0, f"Loaded {name}")
    return LoadedModel(
        name=name,
        module=pixel_model,
        kind=kind,
        input_size=(h, w),
        labels=list(labels),
        layers=layers,
        default_cam_layer=cam,
        device=device,
        source=source,
        num_frames=frames,
        extras={**({"frame_rate": prep["frame_rate"]} if prep.get("frame_rate") else {}),
                **prep.get("extras", {}), "in_channels": pixel_model.in_channels,
                **({"output_shapes": shapes} if shapes else {})},
        multi_label=bool(prep.get("multi_label", False)),
        output=pixel_model.output,
        output_candidates=candidates,
        task=prep.get("task", CLASSIFICATION),
    )


def _output_count(pixel_model, out, shape, prep, name):
    """``(number of outputs, output candidates, their shapes)`` of the dry pass's output:
    a classifier's ``(N, K)`` scores, a detector's dicts or a segmenter's ``(N, K, H, W)``."""
    import torch

    task = prep.get("task", CLASSIFICATION)
    if task != CLASSIFICATION:
        return task_outputs.output_count(pixel_model, out, task, shape, prep.get("output"),
                                         name), [], {}
    out, candidates, shapes = _choose_output(pixel_model, out, shape, prep.get("output"), name)
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ModelLoadError(f"Model {name} returns {got}; a classifier must return (N, classes)")
    return out.shape[1], candidates, shapes


def _fit_labels(labels, count: int, name: str) -> list:
    """The labels, or generic ones; an error when they do not fit ``count`` outputs."""
    if count < 0:  # a detector: its zoo names the classes
        if not labels:
            raise ModelLoadError(f"Detector {name} comes without its class names")
        return list(labels)
    if not labels:
        from workbench.core.models.labels import generic_labels

        labels = generic_labels(count)
    if len(labels) != count:
        raise ModelLoadError(f"Model {name} has {count} outputs but {len(labels)} labels "
                             "were given")
    return list(labels)


def _choose_output(pixel_model, out, shape, wanted, name):
    """The dry pass's output ``out``, and for a forward that returns a tuple, a dict or an object:
    set which part is the score (``wanted``, else ``logits``, else the first ``(N, K)``)
    and return ``(that part, the candidates)``."""
    import torch

    from workbench.core.models import outputs

    if isinstance(out, torch.Tensor):
        if wanted is not None:
            raise ModelLoadError(f"Model {name} returns one tensor; --output '{wanted}' "
                                 "applies to a tuple, dict or object output")
        return out, [], {}
    named = outputs.named_outputs(out)
    candidates = outputs.output_candidates(out, shape[0])
    pixel_model.output = outputs.choose_output(candidates, wanted, [p for p, _ in named], name)
    shapes = {part: "×".join(map(str, value.shape[1:])) for part, value in named
              if part in candidates}  # what the GUI's picker shows beside each name
    return outputs.pick_output(out, pixel_model.output), candidates, shapes
