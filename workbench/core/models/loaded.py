"""The loaded-model contract (DESIGN.md §2): a pixel-space wrapper plus what panels need to know."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from workbench.core.models.outputs import pick_output
from workbench.errors import InputError


class PixelModel(nn.Module):
    """Wraps a network so that it takes float pixels in [0, 1] and normalizes inside.

    Parameters
    ----------
    net
        The user's network, taking normalized input.
    mean, std
        Per-channel normalization in pixel units (length 3, or 1 for a grey model).
    grey
        If true, RGB input is averaged to one channel before normalizing.
    output
        For a network whose forward returns a tuple, a dict or an object (``.logits``):
        which of its outputs is the score (``workbench.core.models.outputs``).
    """

    def __init__(self, net: nn.Module, mean, std, grey: bool = False, output: str | None = None):
        super().__init__()
        self.net = net
        self.grey = grey
        self.output = output
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32), persistent=False)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim not in (4, 5) or x.shape[1] != 3:
            raise InputError(f"expected pixels of shape (N, 3, H, W), got {tuple(x.shape)}")
        if self.grey:
            x = x.mean(dim=1, keepdim=True)
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
