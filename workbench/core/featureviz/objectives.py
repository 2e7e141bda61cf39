"""Objectives to maximize, composable with +, −, × scalar and unary minus.

Olah, Mordvintsev & Schubert, "Feature Visualization", Distill 2017,
https://distill.pub/2017/feature-visualization/ (channel, neuron, DeepDream
layer, class objectives; diversity from Section "Diversity"); the composable
design follows Lucid / Lucent's ``objectives.py``.

An objective is evaluated on ``acts`` (layer name → output of the batch) and
``logits``; it returns one value per batch element.
"""

from __future__ import annotations

import torch


def grid(acts: dict, layer: str) -> torch.Tensor:
    """A recorded output as ``(B, C, H, W)``: recorders store layers channels-first
    (``workbench.core.models.layout.channels_first``); 2-D → 1 × 1, time folds into height."""
    tensor = acts[layer]
    if tensor.ndim == 2:
        return tensor[:, :, None, None]
    if tensor.ndim == 5:
        return tensor.flatten(2, 3)
    return tensor


class Objective:
    """Base: ``layers`` lists what must be recorded; ``needs_logits`` asks for the output."""

    layers: frozenset = frozenset()
    needs_logits = False
    description = ""

    def __call__(self, acts: dict, logits: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def __add__(self, other):
        return Sum(self, other)

    def __sub__(self, other):
        return Sum(self, Scaled(other, -1.0))

    def __mul__(self, factor: float):
        return Scaled(self, float(factor))

    __rmul__ = __mul__

    def __neg__(self):
        return Scaled(self, -1.0)

    def __repr__(self) -> str:
        return self.description


class Sum(Objective):
    def __init__(self, a: Objective, b: Objective):
        self.a, self.b = a, b
        self.layers = a.layers | b.layers
        self.needs_logits = a.needs_logits or b.needs_logits
        self.description = f"({a.description} + {b.description})"

    def __call__(self, acts, logits):
        return self.a(acts, logits) + self.b(acts, logits)


class Scaled(Objective):
    def __init__(self, inner: Objective, factor: float):
        self.inner, self.factor = inner, factor
        self.layers, self.needs_logits = inner.layers, inner.needs_logits
        self.description = f"{factor:g}·{inner.description}"

    def __call__(self, acts, logits):
        return self.factor * self.inner(acts, logits)


class Channel(Objective):
    """Mean activation of one channel of a layer."""

    def __init__(self, layer: str, channel: int):
        self.layer, self.channel = layer, int(channel)
        self.layers = frozenset({layer})
        self.description = f"channel {layer}:{channel}"

    def __call__(self, acts, logits):
        return grid(acts, self.layer)[:, self.channel].mean(dim=(1, 2))


class Neuron(Objective):
    """One channel at one position (``x``, ``y`` on the layer's grid; ``None`` = centre)."""

    def __init__(self, layer: str, channel: int, x: int | None = None, y: int | None = None):
        self.layer, self.channel, self.x, self.y = layer, int(channel), x, y
        self.layers = frozenset({layer})
        self.description = f"neuron {layer}:{channel}@{x},{y}"

    def __call__(self, acts, logits):
        values = grid(acts, self.layer)[:, self.channel]
        h, w = values.shape[-2:]
        y = h // 2 if self.y is None else min(max(int(self.y), 0), h - 1)
        x = w // 2 if self.x is None else min(max(int(self.x), 0), w - 1)
        return values[:, y, x]


class LayerDream(Objective):
    """DeepDream: mean of the squared activations of a whole layer."""

    def __init__(self, layer: str):
        self.layer = layer
        self.layers = frozenset({layer})
        self.description = f"deepdream {layer}"

    def __call__(self, acts, logits):
        return grid(acts, self.layer).pow(2).mean(dim=(1, 2, 3))


class ClassLogit(Objective):
    needs_logits = True

    def __init__(self, index: int):
        self.index = int(index)
        self.description = f"logit {index}"

    def __call__(self, acts, logits):
        return logits[:, self.index]


class ClassProbability(Objective):
    needs_logits = True

    def __init__(self, index: int):
        self.index = int(index)
        self.description = f"probability {index}"

    def __call__(self, acts, logits):
        return torch.softmax(logits, dim=1)[:, self.index]


class Diversity(Objective):
    """Negative mean cosine similarity of the batch's Gram matrices at a layer (Lucid)."""

    def __init__(self, layer: str):
        self.layer = layer
        self.layers = frozenset({layer})
        self.description = f"diversity {layer}"

    def __call__(self, acts, logits):
        features = grid(acts, self.layer)
        b, c = features.shape[:2]
        flat = features.reshape(b, c, -1)
        gram = torch.bmm(flat, flat.transpose(1, 2)).reshape(b, -1)
        gram = torch.nn.functional.normalize(gram, dim=1)
        similarity = gram @ gram.T
        if b < 2:
            return torch.zeros(b, device=features.device)
        off_diagonal = similarity.sum(dim=1) - similarity.diagonal()
        return -off_diagonal / (b - 1)
