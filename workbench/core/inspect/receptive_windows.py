"""Receptive-field arithmetic of one layer (split from :mod:`.receptive`, which still
exports these names): fields, the window a convolution or pooling applies, padding as the
layer declares it, and merging the fields of several inputs.

After Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill 2019 (per axis: ``r = r_in + (k − 1)·d·j_in``, ``j = j_in·s``,
``start = start_in + ((k − 1)·d/2 − p)·j_in``).  Coordinates are pixel indices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

WINDOW_MODULES = (nn.modules.conv._ConvNd, nn.modules.pooling._MaxPoolNd,
                  nn.modules.pooling._AvgPoolNd)
PAD_MODULES = (nn.modules.padding._ConstantPadNd, nn.modules.padding._ReflectionPadNd,
               nn.modules.padding._ReplicationPadNd, nn.ZeroPad2d)
ADAPTIVE_MODULES = (nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd)
CONV_FUNCTIONS = (F.conv1d, F.conv2d, F.conv3d, torch.conv1d, torch.conv2d, torch.conv3d)
POOL_FUNCTIONS = (F.max_pool1d, F.max_pool2d, F.max_pool3d, F.avg_pool1d, F.avg_pool2d,
                  F.avg_pool3d, torch.max_pool1d, torch.max_pool2d, torch.max_pool3d)


@dataclass
class ReceptiveField:
    """Per spatial axis, ``(T,) H, W`` order like the input grid."""

    size: tuple[int, ...]  # r
    jump: tuple[int, ...]  # j (effective stride)
    start: tuple[float, ...]  # centre of the first unit's field, in input pixels


@dataclass
class Undefined:
    """No receptive field here; ``broadcast`` marks a global (1×1) gate that a merge may ignore."""

    note: str
    broadcast: bool = False


@dataclass
class Window:
    """A sliding window on each spatial axis."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]


def _tuple(value, n: int) -> tuple:
    if isinstance(value, (tuple, list)):
        return tuple(value) if len(value) == n else tuple(value) * n
    return (value,) * n


def _grid(tensor) -> tuple[int, ...] | None:
    if isinstance(tensor, torch.Tensor) and tensor.ndim >= 3:
        return tuple(tensor.shape[2:])
    return None


def named_padding(padding, kernel, dilation, n: int):
    """``"valid"`` / ``"same"`` → numbers (the padding before each axis)."""
    if not isinstance(padding, str):
        return padding
    if padding == "valid":
        return (0,) * n
    return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation, strict=True))


def input_field(n: int) -> ReceptiveField:
    """The field of an input pixel: itself."""
    return ReceptiveField((1,) * n, (1,) * n, (0.0,) * n)


def apply_window(rf: ReceptiveField, win: Window) -> tuple[ReceptiveField, str]:
    """The field after a window, and the ``rf`` formula with its values filled in."""
    size, jump, start, parts = [], [], [], []
    for r, j, s0, k, s, p, d in zip(rf.size, rf.jump, rf.start, win.kernel, win.stride,
                                    win.padding, win.dilation, strict=True):
        size.append(r + (k - 1) * d * j)
        jump.append(j * s)
        start.append(s0 + ((k - 1) * d / 2 - p) * j)
        parts.append(f"r = {r} + ({k} − 1)·{d}·{j} = {size[-1]}, j = {j}·{s} = {jump[-1]}")
    unique = list(dict.fromkeys(parts))
    return ReceptiveField(tuple(size), tuple(jump), tuple(start)), "; ".join(unique)


def merge_fields(fields: list[ReceptiveField]) -> ReceptiveField:
    """The field covering every input (an add, a product, a concatenation)."""
    size, jump, start = [], [], []
    for axis in range(len(fields[0].size)):
        low = min(f.start[axis] - (f.size[axis] - 1) / 2 for f in fields)
        high = max(f.start[axis] + (f.size[axis] - 1) / 2 for f in fields)
        size.append(int(round(high - low)) + 1)
        jump.append(max(f.jump[axis] for f in fields))
        start.append((low + high) / 2)
    return ReceptiveField(tuple(size), tuple(jump), tuple(start))


def conv_padding(declared, n_in, n_out, kernel, stride, dilation) -> tuple[int, ...]:
    """The padding before each axis: the declared one when it explains the output size,
    else TensorFlow's "SAME" split (a subclass that pads in its own ``forward``)."""
    pads = []
    for p, a, b, k, s, d in zip(declared, n_in, n_out, kernel, stride, dilation, strict=True):
        if (a + 2 * p - d * (k - 1) - 1) // s + 1 == b:
            pads.append(p)
        else:
            pads.append(max((b - 1) * s + (k - 1) * d + 1 - a, 0) // 2)
    return tuple(pads)


def module_window(mod: nn.Module, n_in, n_out) -> Window | None:
    """The window of a convolution or pooling module (``None`` for other modules)."""
    n = len(n_in)
    if isinstance(mod, nn.modules.conv._ConvTransposeNd) or not isinstance(mod, WINDOW_MODULES):
        return None
    kernel = _tuple(mod.kernel_size, n)
    stride = _tuple(mod.stride or mod.kernel_size, n)
    dilation = _tuple(getattr(mod, "dilation", 1), n)
    padding = named_padding(mod.padding, kernel, dilation, n)
    padding = conv_padding(_tuple(padding, n), n_in, n_out, kernel, stride, dilation)
    return Window(kernel, stride, padding, dilation)


def adaptive_window(n_in, n_out) -> Window | None:
    """Adaptive pooling that divides the grid evenly is a plain window (global pooling,
    to a single position, is not: the field is the whole input)."""
    if math.prod(n_out) == 1 or any(b == 0 or a % b for a, b in zip(n_in, n_out, strict=True)):
        return None
    kernel = tuple(a // b for a, b in zip(n_in, n_out, strict=True))
    return Window(kernel, kernel, (0,) * len(kernel), (1,) * len(kernel))


def _arg(args, kwargs, index, name, default):
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


def function_window(fn, args, kwargs, n: int) -> Window | None:
    """The window of a functional convolution or pooling call."""
    if fn in CONV_FUNCTIONS:
        kernel = tuple(args[1].shape[2:])
        stride = _tuple(_arg(args, kwargs, 3, "stride", 1), n)
        padding = _arg(args, kwargs, 4, "padding", 0)
        dilation = _tuple(_arg(args, kwargs, 5, "dilation", 1), n)
    elif fn in POOL_FUNCTIONS:
        kernel = _tuple(_arg(args, kwargs, 1, "kernel_size", 1), n)
        stride = _tuple(_arg(args, kwargs, 2, "stride", None) or kernel, n)
        padding = _arg(args, kwargs, 3, "padding", 0)
        dilation = _tuple(_arg(args, kwargs, 4, "dilation", 1), n) if "max" in str(fn) else (1,) * n
    else:
        return None
    padding = named_padding(padding, kernel, dilation, n)
    return Window(kernel, stride, _tuple(padding, n), dilation)


def pad_before(pads, n: int) -> tuple[int, ...]:
    """``F.pad``'s (last axis first) pairs → the padding before each of the ``n`` axes."""
    pads = list(pads) + [0] * (2 * n - len(pads))
    return tuple(pads[2 * (n - 1 - axis)] for axis in range(n))
