"""Shared machinery of the attribution family: the method protocol, the registry,
layer capture with backward stopped at the layer, targets, and map resizing.

Every method takes a batch of pixel inputs ``(N, 3, H, W)`` (or video clips
``(N, 3, T, H, W)``) on the model's device and returns raw maps ``(N, H, W)``
(or ``(N, T, H, W)``) at the input resolution, on the same device.  Hooks are
removed and graphs released when a call returns, raises or is cancelled.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import torch
from torch.nn import functional as F

from workbench.core.jobs import JobContext, PlainContext
from workbench.core.models.layout import channels_first
from workbench.core.params import make
from workbench.core.preprocess import check_batch
from workbench.core.registry import Registry
from workbench.errors import InputError

METHODS = Registry("attribution method")


@dataclass
class AttributionResult:
    """Raw maps (not normalized) plus what produced them."""

    maps: torch.Tensor
    targets: list[int]
    method: str
    layer: str | None
    logits: torch.Tensor | None = None
    extras: dict = field(default_factory=dict)

    def numpy(self):
        return self.maps.detach().float().cpu().numpy()


class Method:
    """One attribution method.  Subclasses set the class attributes and :meth:`compute`."""

    name = ""
    title = ""
    paper = ""
    params_cls = None
    needs_layer = True  # False for maps taken at the input (saliency, IG, rollout)
    supports_video = True

    def passes(self, model, layer, params) -> float:
        """About how many forward passes of one image this method costs (a backward pass
        counts as two): what the window uses to estimate its time."""
        return 3.0

    def __call__(self, model, x, targets=None, layer=None, params=None, ctx=None):
        """Compute maps for ``x``; ``targets`` default to each input's top-1 class."""
        ctx = ctx or PlainContext()
        x = check_batch(model, x)
        if params is None or isinstance(params, dict):
            params = make(self.params_cls, params)
        if self.needs_layer:
            layer = layer or model.default_cam_layer
            if not layer:
                model.check_hookable()
                raise InputError(f"{model.name} has no spatial layer for {self.title}")
            model.layer_module(layer)  # clear message for an unknown name
        if x.ndim == 5 and not self.supports_video:
            raise InputError(f"{self.title} does not work on video models")
        ctx.check()
        return self.compute(model, x, targets, layer if self.needs_layer else None, params, ctx)

    def compute(self, model, x, targets, layer, params, ctx: JobContext) -> AttributionResult:
        raise NotImplementedError


register = METHODS.register


def get_method(name: str) -> Method:
    return METHODS.named(name)


def resolve_targets(logits: torch.Tensor, targets, num_classes: int) -> torch.Tensor:
    """Targets as a ``(N,)`` long tensor; ``None`` means each input's top-1 class."""
    n = logits.shape[0]
    if targets is None:
        return logits.detach().argmax(dim=1)
    if isinstance(targets, int):
        targets = [targets] * n
    targets = torch.as_tensor(list(targets), device=logits.device, dtype=torch.long)
    if targets.numel() != n:
        raise InputError(f"{targets.numel()} targets for a batch of {n}")
    bad = [int(t) for t in targets if not 0 <= int(t) < num_classes]
    if bad:
        raise InputError(f"target class {bad[0]} is outside 0 … {num_classes - 1}")
    return targets


def target_scores(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return logits.gather(1, targets[:, None])[:, 0]


class LayerCapture:
    """Holds one layer's output during a forward pass."""

    activation: torch.Tensor | None = None


def _replace_first(output, tensor):
    if isinstance(output, torch.Tensor):
        return tensor
    return type(output)((tensor, *output[1:]))


@contextlib.contextmanager
def capture_layer(model, layer: str, with_grad: bool):
    """Record ``layer``'s output; with ``with_grad`` it becomes the leaf of a new graph.

    The output is detached and made to require grad, so a later
    ``autograd.grad(score, capture.activation)`` runs backward from the output
    down to this layer only: no weight gradients and nothing below the layer.
    A module called several times keeps its last call.
    """
    capture = LayerCapture()

    def hook(_module, _inputs, output):
        tensor = output if isinstance(output, torch.Tensor) else output[0]
        if not with_grad:
            capture.activation = tensor.detach()
            return None
        leaf = tensor.detach().requires_grad_(True)
        capture.activation = leaf
        return _replace_first(output, leaf.clone())  # later in-place ops must not touch the leaf

    handle = model.layer_module(layer).register_forward_hook(hook)
    try:
        yield capture
    finally:
        handle.remove()
        capture.activation = None


def to_grid(tensor: torch.Tensor | None, info) -> torch.Tensor | None:
    """A layer's output (or its gradient) as ``(N, C, *grid)``, whatever the layer's layout
    (channels-last and ViT tokens are rearranged; see ``workbench.core.models.layout``)."""
    if tensor is None:
        return None
    grid = channels_first(tensor, info)
    if grid.ndim not in (4, 5):
        raise InputError(f"layer output of {info.name}, {tuple(tensor.shape)}, has no spatial grid")
    return grid


def upsample(maps: torch.Tensor, size) -> torch.Tensor:
    """``(N, h, w)`` → ``(N, H, W)`` bilinear, or ``(N, t, h, w)`` → ``(N, T, H, W)`` trilinear;
    a map without time on a clip (``(N, h, w)`` to ``(T, H, W)``) holds for every frame."""
    size = tuple(size)
    if maps.ndim == 3 and len(size) == 3:  # a clip model's layer without time (early fusion)
        return upsample(maps, size[1:])[:, None].expand(-1, size[0], -1, -1)
    if tuple(maps.shape[1:]) == size:
        return maps
    mode = "bilinear" if maps.ndim == 3 else "trilinear"
    return F.interpolate(maps[:, None].float(), size=size, mode=mode, align_corners=False)[:, 0]


def normalize_maps(maps: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Min-max each map to [0, 1] (a constant map becomes zeros)."""
    flat = maps.flatten(1)
    low = flat.min(dim=1, keepdim=True).values
    high = flat.max(dim=1, keepdim=True).values
    return ((flat - low) / (high - low).clamp_min(eps)).view_as(maps)


def spatial_size(x: torch.Tensor) -> tuple[int, ...]:
    return tuple(x.shape[2:])


def batches(total: int, size: int):
    for start in range(0, total, size):
        yield start, min(total, start + size)
