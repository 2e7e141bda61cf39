"""The loaded-model contract (DESIGN.md §2): a pixel-space wrapper plus what panels need to know."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from workbench.core.models.outputs import pick_output
from workbench.errors import InputError

# How 3-channel pixels become a network's input (DESIGN.md §2: pixels outside a model are RGB).
LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, as PIL's convert("L") and torchvision Grayscale
CONVERSIONS = {
    "rgb": "RGB",
    "mean": "greyscale (mean of R, G, B)",
    "luminance": "greyscale (BT.601 luminance 0.299 R + 0.587 G + 0.114 B)",
    "rgb+ones": "RGB + a constant 4th channel of ones",
}


def channel_stats(values, in_channels: int, extra: float) -> tuple[float, ...]:
    """Per-channel ``mean`` or ``std`` of the right length for ``in_channels``: as given when
    the length fits, three averaged to one for a greyscale net, one repeated for RGB, and
    three plus ``extra`` (0 for the mean, 1 for the std: the 4th channel passes unchanged)."""
    values = tuple(float(v) for v in values)
    if len(values) == 1 and in_channels in (3, 4):
        values = values * 3
    if len(values) == in_channels:
        return values
    if len(values) == 3 and in_channels == 1:
        return (sum(values) / 3,)
    if len(values) == 3 and in_channels == 4:
        return values + (extra,)
    raise InputError(f"{len(values)} mean / std values do not fit a {in_channels}-channel input")


class PixelModel(nn.Module):
    """Wraps a network so that it takes float pixels in [0, 1] and normalizes inside.

    Parameters
    ----------
    net
        The user's network, taking normalized input.
    mean, std
        Per-channel normalization in pixel units; fitted to ``in_channels`` by
        :func:`channel_stats` (three averaged to one for a greyscale net, a 4th of 0 / 1).
    grey
        If true, RGB input is averaged to one channel before normalizing (the built-in
        models; the same as ``in_channels=1`` but with the plain mean of R, G and B).
    output
        For a network whose forward returns a tuple, a dict or an object (``.logits``):
        which of its outputs is the score (``workbench.core.models.outputs``).
    in_channels
        What the network's first layer takes: 3 (RGB, as is), 1 (greyscale: BT.601
        luminance ``0.299 R + 0.587 G + 0.114 B``) or 4 (RGB plus a constant channel of
        ones, an opaque alpha).  The wrapper always takes ``(N, 3, ...)`` pixels.
    """

    def __init__(self, net: nn.Module, mean, std, grey: bool = False, output: str | None = None,
                 in_channels: int | None = None):
        super().__init__()
        in_channels = in_channels or (1 if grey else 3)
        if in_channels not in (1, 3, 4):
            raise InputError(f"a model input of {in_channels} channels is not supported "
                             "(1 greyscale, 3 RGB or 4 RGB + alpha)")
        self.net = net
        self.in_channels = in_channels
        self.conversion = {1: "mean" if grey else "luminance", 3: "rgb", 4: "rgb+ones"}[
            in_channels]
        self.output = output
        mean = channel_stats(mean, in_channels, 0.0)
        std = channel_stats(std, in_channels, 1.0)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32), persistent=False)

    @property
    def grey(self) -> bool:
        return self.in_channels == 1

    def convert(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, ...)`` pixels → the ``in_channels`` pixels the network takes (still
        in [0, 1], before normalizing)."""
        if self.conversion == "mean":
            return x.mean(dim=1, keepdim=True)
        if self.conversion == "luminance":
            weights = torch.tensor(LUMA, dtype=x.dtype, device=x.device)
            return (x * weights.view((1, 3) + (1,) * (x.ndim - 2))).sum(dim=1, keepdim=True)
        if self.conversion == "rgb+ones":
            return torch.cat([x, torch.ones_like(x[:, :1])], dim=1)
        return x

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim not in (4, 5) or x.shape[1] != 3:
            raise InputError(f"expected pixels of shape (N, 3, H, W), got {tuple(x.shape)}")
        x = self.convert(x)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return (x - self.mean.view(shape)) / self.std.view(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(self.normalize(x))
        return out if self.output is None else pick_output(out, self.output)


@dataclass(frozen=True)
class LayerInfo:
    """One named module of the network with its output shape from a dry forward pass.

    ``layout`` says where the output keeps its channels (``workbench.core.models.layout``:
    channels-first, channels-last, tokens, vector, or ``None`` when it cannot be told);
    ``grid`` is its positions ``(h, w)`` or ``(t, h, w)``, ``channels`` their depth.
    """

    name: str
    type_name: str
    output_shape: tuple[int, ...] | None
    num_params: int
    depth: int
    layout: str | None = None
    grid: tuple[int, ...] = ()
    channels: int = 0

    @property
    def is_spatial(self) -> bool:
        """True for a channels-first or channels-last output with more than one position."""
        from workbench.core.models.layout import SPATIAL_LAYOUTS

        return self.layout in SPATIAL_LAYOUTS and math.prod(self.grid) > 1

    @property
    def is_tokens(self) -> bool:
        """True for transformer tokens ``(N, prefix + positions, C)`` on a known grid."""
        from workbench.core.models.layout import TOKENS

        return self.layout == TOKENS

    @property
    def has_grid(self) -> bool:
        """Maps and channel pictures can be drawn from this layer."""
        return self.is_spatial or self.is_tokens

    def shape_text(self) -> str:
        """``C×H×W`` as channels × positions (``–`` when unknown)."""
        if self.has_grid:
            return "×".join(map(str, (self.channels, *self.grid)))
        return "×".join(map(str, self.output_shape[1:])) if self.output_shape else "–"


@dataclass
class LoadedModel:
    """A model ready for every panel: pixel-space module plus metadata.

    ``layers`` lists the network's modules in definition order by their
    ``named_modules()`` names (without the wrapper's ``net.`` prefix).
    """

    name: str
    module: PixelModel
    kind: str  # "image" or "video"
    input_size: tuple[int, int]
    labels: list[str]
    layers: list[LayerInfo]
    default_cam_layer: str | None
    device: torch.device
    source: str
    num_frames: int = 0
    extras: dict = field(default_factory=dict)
    multi_label: bool = False  # independent labels: sigmoid probabilities, not softmax
    output: str | None = None  # the chosen output of a tuple / dict / object forward
    output_candidates: list[str] = field(default_factory=list)  # its (N, K) outputs
    task: str = "classification"  # or "detection", "segmentation" (DESIGN.md §11)

    @property
    def is_classifier(self) -> bool:
        """The module returns ``(N, classes)`` scores (every classifier, and a dense model
        seen through a target: ``workbench.core.tasks.targets.scored_model``)."""
        return self.task == "classification"

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def label(self, index: int) -> str:
        return self.labels[index] if 0 <= index < len(self.labels) else f"class {index}"

    def layer_module(self, name: str) -> nn.Module:
        """The ``nn.Module`` called ``name`` in the user's network."""
        self.check_hookable()
        try:
            return self.module.net.get_submodule(name)
        except AttributeError as exc:
            raise InputError(f"model {self.name} has no layer '{name}'") from exc

    def check_hookable(self) -> None:
        """Raise a clear error for a network whose layers cannot carry hooks (TorchScript)."""
        if isinstance(self.module.net, torch.jit.ScriptModule):
            raise InputError(
                f"model {self.name} is a TorchScript file: its layers cannot be hooked, so "
                "methods at a layer do not work on it (input-level methods such as saliency "
                "do; load a state dict with --arch for the rest)")

    def layer_info(self, name: str) -> LayerInfo:
        for info in self.layers:
            if info.name == name:
                return info
        raise InputError(f"model {self.name} has no layer '{name}'")

    def input_shape(self, batch: int = 1) -> tuple[int, ...]:
        h, w = self.input_size
        if self.kind == "video":
            return (batch, 3, self.num_frames, h, w)
        return (batch, 3, h, w)

    def caption(self) -> str:
        return f"{self.name} ({self.source})"

    def input_description(self) -> dict:
        """What the network is given: ``{"size": [h, w], "channels": c, "conversion": …}``
        (the wrapper turns the app's RGB pixels into ``c`` channels as ``conversion`` says)."""
        conversion = getattr(self.module, "conversion", "rgb")
        return {"size": list(self.input_size),
                "channels": int(getattr(self.module, "in_channels", 3)),
                "conversion": CONVERSIONS[conversion]}

    def input_text(self) -> str:
        """``"224×224"`` for RGB, ``"greyscale, 28×28"`` or ``"RGB + a constant 4th channel,
        64×64"`` otherwise (width × height, as the Predict tab titles its view)."""
        h, w = self.input_size
        channels = getattr(self.module, "in_channels", 3)
        seen = {1: "greyscale, ", 4: "RGB + a constant 4th channel, "}.get(channels, "")
        return f"{seen}{w}×{h}"
