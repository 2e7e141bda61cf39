"""Where a layer's output keeps its channels and positions, told once per layer.

Convolutions give ``(N, C, H, W)`` (or ``(N, C, T, H, W)``); Swin, ConvNeXt blocks
and many timm models give ``(N, H, W, C)``; vision transformers give tokens
``(N, prefix + positions, C)``.  Reading a channels-last output as channels-first
silently gives striped maps and wrong channel counts, so the layout is detected
when the model is described (:func:`detect_layout`) and every consumer (CAMs,
channel pickers, mosaics, dataset examples, embeddings) converts through
:func:`channels_first`.  When the layout cannot be told the layer says so.

Detection: a second dry pass at a wider input (the *probe*) shows which axis
follows the input's width; where the model accepts only its own size, a
square input tells by which two axes are equal.
"""

from __future__ import annotations

import math

import torch

from workbench.errors import InputError

CHANNELS_FIRST = "channels-first"
CHANNELS_LAST = "channels-last"
TOKENS = "tokens"
VECTOR = "vector"
SPATIAL_LAYOUTS = (CHANNELS_FIRST, CHANNELS_LAST)
# a class token, none, class + distillation token, class + 4 registers, 4 registers
PREFIX_TOKENS = (1, 0, 2, 5, 4)
STRIDE_TOLERANCE = 0.1  # a non-square token grid's rows and columns cover the same pixels
MIN_TOKENS = 4


def detect_layout(shape, probe=None, input_grid=(), patch_time: int | None = None,
                  prefix: int | None = None):
    """``(layout, grid, channels)`` for an output ``shape`` (batch first).

    ``probe`` is the same layer's shape at a wider input (or ``None``),
    ``input_grid`` the model input's ``(H, W)`` or ``(T, H, W)``, ``patch_time`` the
    number of time steps of a video model's patch grid (for its tokens), ``prefix`` the
    model's own count of class / register / distillation tokens (timm's
    ``num_prefix_tokens``; tried before the usual guesses).
    ``layout`` is ``None`` when it cannot be told.
    """
    if shape is None or len(shape) < 2:
        return None, (), 0
    shape = tuple(int(s) for s in shape)
    if len(shape) == 2:
        return VECTOR, (), shape[1]
    if len(shape) == 3:
        grid = token_grid(shape[1], video=len(input_grid) == 3, patch_time=patch_time,
                          prefix=prefix, aspect=tuple(input_grid[-2:]) or None)
        consistent = probe is None or len(probe) != 3 or (
            probe[1] != shape[1] and probe[2] == shape[2])  # more tokens, same channels
        if grid is None or not consistent:
            return None, (), 0
        return TOKENS, grid, shape[2]
    if len(shape) not in (4, 5):
        return None, (), 0
    layout = (_by_probe(shape, probe) or _by_square(shape, input_grid)
              or _by_aspect(shape, input_grid))
    if layout == CHANNELS_FIRST:
        return layout, shape[2:], shape[1]
    if layout == CHANNELS_LAST:
        return layout, shape[1:-1], shape[-1]
    return None, (), 0


def _by_probe(shape, probe) -> str | None:
    """The axis that grew with the input's width is the last spatial one."""
    if probe is None or len(probe) != len(shape):
        return None
    changed = [axis for axis in range(1, len(shape)) if shape[axis] != probe[axis]]
    if changed == [len(shape) - 1]:
        return CHANNELS_FIRST
    if changed == [len(shape) - 2]:
        return CHANNELS_LAST
    return None


def _by_square(shape, input_grid) -> str | None:
    """With a square input, the spatial axes are the two equal ones (and only those)."""
    if len(input_grid) < 2 or input_grid[-1] != input_grid[-2]:
        return None
    first = shape[-1] == shape[-2] and shape[1] != shape[-1]
    last = shape[-2] == shape[-3] and shape[-1] != shape[-2]
    if first != last:
        return CHANNELS_FIRST if first else CHANNELS_LAST
    return None


def _by_aspect(shape, input_grid) -> str | None:
    """With a non-square input, the spatial axes are the two whose sizes cover the input's
    height and width with the same stride (and only those)."""
    if len(input_grid) < 2 or input_grid[-1] == input_grid[-2] or len(shape) != 4:
        return None
    first = _same_stride(shape[-2], shape[-1], input_grid[-2:])
    last = _same_stride(shape[-3], shape[-2], input_grid[-2:])
    if first != last:
        return CHANNELS_FIRST if first else CHANNELS_LAST
    return None


def _same_stride(rows: int, cols: int, aspect) -> bool:
    """``rows × cols`` positions cover an ``aspect = (H, W)`` input with one stride."""
    if rows < 2 or cols < 2:
        return False
    stride_h, stride_w = aspect[0] / rows, aspect[1] / cols
    return abs(stride_h - stride_w) <= STRIDE_TOLERANCE * max(stride_h, stride_w)


def _plane(positions: int, aspect) -> tuple[int, int] | None:
    """The ``(h, w)`` grid of ``positions`` tokens: square for a square (or unknown) input,
    else the factorization with the input's stride on both axes."""
    side = math.isqrt(positions)
    square = side > 1 and side * side == positions
    if not aspect or len(aspect) != 2 or aspect[0] == aspect[1]:
        return (side, side) if square else None
    best = None
    for rows in range(2, positions // 2 + 1):
        if positions % rows == 0 and _same_stride(rows, positions // rows, aspect):
            ratio = abs(aspect[0] / rows - aspect[1] * rows / positions)
            if best is None or ratio < best[0]:
                best = (ratio, (rows, positions // rows))
    return best[1] if best else None


def token_grid(count: int, video: bool = False, patch_time: int | None = None,
               prefix: int | None = None, aspect=None):
    """The position grid of ``count`` tokens: ``(k, k)`` (``(h, w)`` with the same stride
    as a non-square input ``aspect = (H, W)``), or ``(t, k, k)`` for a video model whose
    patch grid has ``patch_time`` steps; ``None`` when no prefix makes it whole.  The
    model's own ``prefix`` count is tried first."""
    if count < MIN_TOKENS + 1:
        return None
    prefixes = ((prefix,) if prefix is not None and prefix >= 0 else ()) + PREFIX_TOKENS
    for prefix_count in dict.fromkeys(prefixes):
        positions = count - prefix_count
        if video:
            if not patch_time or positions % patch_time:
                continue
            side = math.isqrt(positions // patch_time)
            if side > 1 and side * side * patch_time == positions:
                return (patch_time, side, side)
            continue
        plane = _plane(positions, aspect) if positions > 1 else None
        if plane is not None:
            return plane
    return None


def channels_first(tensor: torch.Tensor, info) -> torch.Tensor:
    """A layer's output as ``(N, C, *grid)`` (vectors stay ``(N, D)``), whatever its layout.

    ``info`` is the layer's :class:`~workbench.core.models.loaded.LayerInfo`.  Tokens
    are re-gridded from the tensor itself, so another input size works too.
    """
    layout = info.layout
    if layout == CHANNELS_FIRST or (layout == VECTOR and tensor.ndim == 2):
        return tensor
    if layout == CHANNELS_LAST and tensor.ndim in (4, 5):
        return tensor.movedim(-1, 1)
    if layout == TOKENS and tensor.ndim == 3:
        patch_time = info.grid[0] if len(info.grid) == 3 else None
        recorded = tuple(info.output_shape or ())
        if len(recorded) == 3 and tensor.shape[1] == recorded[1]:
            grid = tuple(info.grid)  # as described: the model's prefix, a non-square grid
        else:
            grid = token_grid(tensor.shape[1], video=patch_time is not None,
                              patch_time=patch_time, aspect=tuple(info.grid[-2:]) or None)
        if grid is not None:
            positions = math.prod(grid)
            tokens = tensor[:, tensor.shape[1] - positions:]
            return tokens.transpose(1, 2).reshape(tensor.shape[0], tensor.shape[2], *grid)
    raise InputError(unknown_layout_message(info, tuple(tensor.shape)))


def unknown_layout_message(info, shape=None) -> str:
    shape = tuple(shape or info.output_shape or ())
    return (f"cannot tell which axis of layer {info.name}'s output {shape} holds its channels "
            "and which its positions; choose another layer")
