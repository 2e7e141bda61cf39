"""The Model inspector's table: per layer its kernel, shapes, parameters, MACs, activation
size and theoretical receptive field, each with the formula that gives it.

Receptive fields: Araujo, Norris & Sim, Distill 2019,
https://distill.pub/2019/computing-receptive-fields/ (see :mod:`.receptive`).  MACs from
``torch.utils.flop_counter.FlopCounterMode`` (MACs = FLOPs / 2).  Shapes and MACs come from
one dry pass on the meta device (no weights touched), or a real CPU pass when that fails.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from workbench.core.inspect.conv import layer_formulas, number
from workbench.core.inspect.receptive import (
    ReceptiveField,
    Undefined,
    chain_fields,
    effective_receptive_field,
    trace_fields,
    unit_box,
)
from workbench.core.models.introspect import first_tensor
from workbench.errors import InputError

__all__ = ["LayerRow", "ModelTable", "ReceptiveField", "effective_receptive_field",
           "inspect_model", "receptive_box"]


@dataclass
class LayerRow:
    """One ``named_modules()`` entry of the network (see the module docstring)."""

    name: str
    type_name: str
    depth: int
    kernel: tuple | None
    stride: tuple | None
    padding: tuple | None
    dilation: tuple | None
    groups: int | None
    input_shape: tuple | None
    output_shape: tuple | None
    params_trainable: int  # every nn.Parameter of this module and its children
    params_frozen: int  # floating buffers (BatchNorm running statistics), Keras' "non-trainable"
    macs: int  # inclusive of children
    activation_bytes: int  # output size in bytes, batch 1
    rf: ReceptiveField | None
    rf_note: str
    formulas: dict[str, str]


@dataclass
class ModelTable:
    """Every layer's row, the totals and how long the inspection took."""

    rows: list[LayerRow]
    totals: dict
    input_shape: tuple
    seconds: float

    def row(self, name: str) -> LayerRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise InputError(f"no layer '{name}' in the table")


def net_input_shape(model, input_size=None) -> tuple[int, ...]:
    """The shape the user's network sees (one channel for a grey model), batch 1."""
    shape = list(model.input_shape(1))
    if input_size is not None:
        h, w = (int(v) for v in input_size)
        if h < 1 or w < 1:
            raise InputError(f"input size must be positive, got {h}×{w}")
        shape[-2:] = [h, w]
    if getattr(model.module, "grey", False):
        shape[1] = 1
    return tuple(shape)


def meta_copy(net: nn.Module) -> nn.Module:
    """A copy of ``net`` whose parameters and buffers live on the meta device (no data)."""
    memo = {}
    for p in net.parameters():
        memo[id(p)] = nn.Parameter(torch.empty_like(p, device="meta"), p.requires_grad)
    for b in net.buffers():
        memo[id(b)] = torch.empty_like(b, device="meta")
    return copy.deepcopy(net, memo)


def hooked_pass(net: nn.Module, x: torch.Tensor):
    """One forward pass recording, per module, its first call's input / output shapes and
    output bytes, the order modules finished, and FlopCounterMode's per-module counts."""
    shapes, sizes, order, handles = {}, {}, [], []

    def make_hook(name):
        def hook(_m, inputs, output):
            tensor, first = first_tensor(output), first_tensor(inputs)
            if name not in shapes:
                shapes[name] = (tuple(first.shape) if first is not None else None,
                                tuple(tensor.shape) if tensor is not None else None)
                sizes[name] = tensor.numel() * tensor.element_size() if tensor is not None else 0
                order.append(name)
        return hook

    for name, mod in net.named_modules():
        if name:
            handles.append(mod.register_forward_hook(make_hook(name)))
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            net(x)
    finally:
        for handle in handles:
            handle.remove()
    return shapes, sizes, order, counter


def dry_pass(net: nn.Module, shape, device):
    """``(network, input, hooked pass)`` on the meta device, or for real when meta fails."""
    try:
        meta = meta_copy(net)
        x = torch.empty(shape, device="meta")
        return meta, x, hooked_pass(meta, x)
    except Exception:  # noqa: BLE001 - an op without a meta kernel: run it for real
        x = torch.zeros(shape, device=device)
        return net, x, hooked_pass(net, x)


def module_macs(counter, root: nn.Module) -> dict[str, int]:
    """``{module name: MACs}`` (inclusive) from the counter's per-module FLOPs; ``""`` the total."""
    prefix = type(root).__name__
    macs = {"": counter.get_total_flops() // 2}
    for key, flops in counter.get_flop_counts().items():
        if key.startswith(prefix + "."):
            macs[key[len(prefix) + 1:]] = sum(flops.values()) // 2
    return macs


def parameter_counts(net: nn.Module) -> dict[str, tuple[int, int]]:
    """``{module name: (parameters, floating buffers)}`` of it and its children."""
    totals: dict[str, list[int]] = {name: [0, 0] for name, _ in net.named_modules()}
    for name, mod in net.named_modules():
        own = sum(p.numel() for p in mod.parameters(recurse=False))
        frozen = sum(b.numel() for b in mod.buffers(recurse=False) if b.is_floating_point())
        parts = name.split(".") if name else []
        for i in range(len(parts) + 1):
            total = totals[".".join(parts[:i])]
            total[0] += own
            total[1] += frozen
    return {name: (a, b) for name, (a, b) in totals.items()}


def field_map(run_net, x, net, order, shapes):
    """Receptive fields per module from the fx graph, or a chain when tracing fails."""
    try:
        return trace_fields(run_net, x), ""
    except Exception as exc:  # noqa: BLE001 - fx cannot trace every network
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        modules = dict(net.named_modules())
        note = f"fx tracing failed ({reason}): fields follow the module order as a chain"
        return chain_fields(modules, order, shapes), note


def _attr(mod, name, n):
    value = getattr(mod, name, None)
    if value is None or isinstance(value, str):
        return value if isinstance(value, str) else None
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def make_row(name, mod, shape_io, nbytes, params, macs, field, chain_note) -> LayerRow:
    """One table row from what the passes recorded."""
    state, rf_formula, win = field if field else (Undefined("the layer did not run"), "", None)
    shape_in, shape_out = shape_io
    n = max(len(shape_out) - 2, 1) if shape_out else 2
    rf = state if isinstance(state, ReceptiveField) else None
    note = state.note if isinstance(state, Undefined) else ("" if rf else "no grid")
    if chain_note and (rf is not None or note):
        note = f"{note}; {chain_note}" if note else chain_note
    row = LayerRow(
        name=name, type_name=type(mod).__name__, depth=name.count(".") + 1,
        kernel=win.kernel if win else _attr(mod, "kernel_size", n),
        stride=win.stride if win else _attr(mod, "stride", n),
        padding=win.padding if win else _attr(mod, "padding", n),
        dilation=win.dilation if win else _attr(mod, "dilation", n),
        groups=getattr(mod, "groups", None) if isinstance(getattr(mod, "groups", None), int)
        else None,
        input_shape=shape_in, output_shape=shape_out,
        params_trainable=params[0], params_frozen=params[1], macs=macs,
        activation_bytes=nbytes, rf=rf, rf_note=note, formulas={})
    row.formulas = layer_formulas(row, mod, rf_formula)
    return row


def inspect_model(model, input_size: tuple[int, int] | None = None, ctx=None) -> ModelTable:
    """The inspector's table of ``model`` (a :class:`~workbench.core.models.loaded.LoadedModel`)
    at its own input size or ``input_size`` ``(H, W)``."""
    began = time.perf_counter()
    model.check_hookable()
    net = model.module.net
    shape = net_input_shape(model, input_size)
    if ctx is not None:
        ctx.progress(0.1, "Dry pass")
    try:
        run_net, x, (shapes, sizes, order, counter) = dry_pass(net, shape, model.device)
    except Exception as exc:  # noqa: BLE001 - a size the network cannot take
        raise InputError(f"model {model.name} fails on a {shape} input: "
                         f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                         ) from exc
    if ctx is not None:
        ctx.check()
        ctx.progress(0.5, "Receptive fields")
    fields, chain_note = field_map(run_net, x, net, order, shapes)
    macs, params = module_macs(counter, run_net), parameter_counts(net)
    rows = [make_row(name, mod, shapes.get(name, (None, None)), sizes.get(name, 0),
                     params[name], macs.get(name, 0), fields.get(name), chain_note)
            for name, mod in net.named_modules() if name]
    leaves = {name for name, mod in net.named_modules() if not any(True for _ in mod.children())}
    totals = {"params_trainable": params[""][0], "params_frozen": params[""][1],
              "macs": macs[""],
              "activation_bytes": sum(sizes.get(name, 0) for name in leaves)}
    if ctx is not None:
        ctx.progress(1.0, "Done")
    return ModelTable(rows, totals, shape, time.perf_counter() - began)


def receptive_box(row: LayerRow, position, input_size) -> tuple[int, int, int, int]:
    """``(top, left, bottom, right)`` in input pixels (bottom / right exclusive), clipped to
    the input, of the field of unit ``position`` ``(h, w)`` of ``row``'s output."""
    if row.rf is None:
        raise InputError(f"layer {row.name} has no receptive field: {row.rf_note}")
    rf = row.rf
    if len(rf.size) > 2:  # a clip: the box is drawn on a frame
        rf = ReceptiveField(rf.size[-2:], rf.jump[-2:], rf.start[-2:])
    top, left, bottom, right = unit_box(rf, tuple(position)[-2:], tuple(input_size)[-2:])
    return top, left, bottom, right


def describe_totals(totals: dict) -> str:
    """One line of totals."""
    return (f"{number(totals['params_trainable'])} parameters, "
            f"{number(totals['params_frozen'])} non-trainable, "
            f"{number(totals['macs'])} MACs, "
            f"{number(math.ceil(totals['activation_bytes'] / 1024))} KiB of activations")
