"""Theoretical receptive fields propagated through a network's graph, and effective ones.

Receptive field arithmetic after Araujo, Norris & Sim, "Computing Receptive Fields of
Convolutional Neural Networks", Distill 2019, https://distill.pub/2019/computing-receptive-fields/
(per axis: ``r = r_in + (k − 1)·d·j_in``, ``j = j_in·s``,
``start = start_in + ((k − 1)·d/2 − p)·j_in``; merges take the field covering both inputs).
Effective receptive field after Luo, Li, Urtasun & Zemel, NeurIPS 2016,
https://arxiv.org/abs/1701.04128 (the input gradient of one unit).

Coordinates are pixel indices: the input's pixel ``i`` has its centre at ``i``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import fx, nn

from workbench.core.inspect.receptive_windows import (  # noqa: F401 - re-exported
    ADAPTIVE_MODULES,
    CONV_FUNCTIONS,
    PAD_MODULES,
    POOL_FUNCTIONS,
    WINDOW_MODULES,
    ReceptiveField,
    Undefined,
    Window,
    _grid,
    _tuple,
    adaptive_window,
    apply_window,
    conv_padding,
    function_window,
    input_field,
    merge_fields,
    module_window,
    named_padding,
    pad_before,
)
from workbench.errors import InputError


class FieldTracer(fx.Tracer):
    """Keeps convolutions and pools (and their subclasses) as leaves of the graph."""

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, WINDOW_MODULES + PAD_MODULES) or super().is_leaf_module(m, qualname)


class FieldInterpreter(fx.Interpreter):
    """Runs the traced graph (on meta tensors) and propagates a field per node."""

    def run(self, *args):  # noqa: D401 - fx's loop without its tqdm bar
        """Every node in order, as :meth:`fx.Interpreter.run` does, but without creating a
        ``tqdm`` bar: even a disabled one takes tqdm's process-wide lock, which a tqdm
        user elsewhere in the process (UMAP's progress) can leave held."""
        self.env = {}
        self.args_iter = iter(args)
        for node in self.graph.nodes:
            if node in self.env:
                continue
            self.env[node] = self.run_node(node)
            if node.op == "output":
                return self.env[node]
        return None

    def __init__(self, gm: fx.GraphModule):
        super().__init__(gm)
        self.fields: dict[fx.Node, object] = {}
        self.formulas: dict[fx.Node, str] = {}
        self.windows: dict[fx.Node, Window] = {}

    def run_node(self, n: fx.Node):
        out = super().run_node(n)
        self.fields[n] = self.field_of(n, out)
        return out

    def field_of(self, n: fx.Node, out):
        if n.op == "placeholder":
            grid = _grid(out)
            return input_field(len(grid)) if grid else Undefined("the input has no grid")
        if n.op in ("get_attr", "output"):
            return None if n.op == "get_attr" else self.fields.get(n.args[0])
        args, kwargs = self.fetch_args_kwargs_from_env(n)
        first = n.all_input_nodes[0] if n.all_input_nodes else None
        state = self.fields.get(first)
        grid_in, grid_out = _grid(args[0]) if args else None, _grid(out)
        win = self.window(n, args, kwargs, grid_in, grid_out)
        if (win is not None and isinstance(state, ReceptiveField)
                and len(state.size) == len(win.kernel)):
            self.windows[n] = win
            rf, self.formulas[n] = apply_window(state, win)
            return rf
        if isinstance(state, ReceptiveField) and self.is_pad(n) and grid_in and grid_out:
            pads = pad_before(args[1], len(grid_in)) if n.op == "call_function" else None
            return self.padded(state, n, pads, grid_in, grid_out)
        return self.generic(n, out)

    def window(self, n, args, kwargs, grid_in, grid_out) -> Window | None:
        if not grid_in or not grid_out or len(grid_in) != len(grid_out):
            return None
        if n.op == "call_module":
            mod = self.module.get_submodule(n.target)
            if isinstance(mod, ADAPTIVE_MODULES):
                return adaptive_window(grid_in, grid_out)
            return module_window(mod, grid_in, grid_out)
        if n.op == "call_function":
            try:
                return function_window(n.target, args, kwargs, len(grid_in))
            except (TypeError, IndexError, AttributeError):
                return None
        return None

    def is_pad(self, n) -> bool:
        if n.op == "call_module":
            return isinstance(self.module.get_submodule(n.target), PAD_MODULES)
        return n.op == "call_function" and n.target in (F.pad, torch.constant_pad_nd)

    def padded(self, state, n, pads, grid_in, grid_out):
        if pads is None:
            mod = self.module.get_submodule(n.target)
            pads = pad_before(_tuple(mod.padding, 2 * len(grid_in)), len(grid_in))
        start = tuple(s - p * j for s, p, j in zip(state.start, pads, state.jump, strict=True))
        return ReceptiveField(state.size, state.jump, start)

    def generic(self, n: fx.Node, out):
        """Pointwise ops keep the grid; merges take the covering field; the rest end it."""
        states = [(a, self.fields.get(a)) for a in n.all_input_nodes]
        states = [(a, s) for a, s in states if s is not None]
        if not states:
            return None
        tensors = [(a, s) for a, s in states if isinstance(self.env[a], torch.Tensor)]
        if not isinstance(out, torch.Tensor) or not tensors:
            return states[0][1]  # sizes, tuples and items of tuples carry their source's field
        grid = _grid(out)
        spatial, undefined = [], []
        for a, s in tensors:
            if isinstance(s, ReceptiveField) and _grid(self.env[a]) == grid:
                spatial.append(s)
            elif isinstance(s, ReceptiveField):
                return self.ended(n, out, self.env[a])
            else:
                undefined.append(s)
        if spatial and all(s.broadcast for s in undefined):
            return merge_fields(spatial) if len(spatial) > 1 else spatial[0]
        return undefined[0]

    def ended(self, n: fx.Node, out, before):
        grid = _grid(out)
        where = n.target if n.op == "call_module" else getattr(n.target, "__name__", n.name)
        if grid and math.prod(grid) == 1 and out.ndim == before.ndim:
            return Undefined(f"global pooling at {where}: each unit sees the whole input",
                             broadcast=True)
        if out.ndim < before.ndim:
            return Undefined(f"{where} flattens the grid (tokens or features, no window)")
        return Undefined(f"{where} changes the grid without a fixed window")


def node_module(n: fx.Node) -> list[str]:
    """The module paths a node ran inside, outermost first."""
    stack = n.meta.get("nn_module_stack") or {}
    names = [value[0] if isinstance(value, tuple) else key for key, value in stack.items()]
    if n.op == "call_module" and n.target not in names:
        names.append(n.target)
    return names


def trace_fields(net: nn.Module, x: torch.Tensor):
    """``{module name: (field or Undefined, rf formula, Window or None)}`` from the fx graph.

    The field of a module is the one at its output (the last node run inside it).
    """
    graph = FieldTracer().trace(net)
    gm = fx.GraphModule(net, graph)
    interp = FieldInterpreter(gm)
    with torch.no_grad():
        interp.run(x)
    result: dict[str, tuple] = {}
    for n in gm.graph.nodes:
        if n.op in ("placeholder", "output", "get_attr"):
            continue
        state = interp.fields.get(n)
        for name in node_module(n):
            leaf = n.op == "call_module" and name == n.target
            if leaf and name in result:
                continue  # a module called twice (a shared ReLU): its first call, like shapes
            result[name] = (state, interp.formulas.get(n, "") if leaf else "",
                            interp.windows.get(n) if leaf else None)
    final = interp.fields.get(next(iter(reversed(gm.graph.nodes))))
    result[""] = (final, "", None)
    return result


def chain_fields(modules: dict, order: list[str], shapes: dict):
    """Fallback when fx cannot trace: leaf modules in execution order, as a chain."""
    result, state = {}, None
    for name in order:
        mod = modules[name]
        if any(True for _ in mod.children()):
            continue
        shape_in, shape_out = shapes.get(name, (None, None))
        grid_in = tuple(shape_in[2:]) if shape_in and len(shape_in) >= 3 else None
        grid_out = tuple(shape_out[2:]) if shape_out and len(shape_out) >= 3 else None
        if state is None:
            state = input_field(len(grid_in)) if grid_in else Undefined("no grid")
        state, formula, win = chain_step(mod, state, grid_in, grid_out)
        result.setdefault(name, (state, formula, win))
        for prefix in _prefixes(name):
            result[prefix] = (state, "", None)
    return result


def chain_step(mod, state, grid_in, grid_out):
    if not isinstance(state, ReceptiveField) or not grid_in or not grid_out:
        return (state if isinstance(state, Undefined) else
                Undefined(f"{type(mod).__name__} ends the grid")), "", None
    if isinstance(mod, ADAPTIVE_MODULES):
        win = adaptive_window(grid_in, grid_out)
    else:
        win = module_window(mod, grid_in, grid_out) if len(grid_in) == len(grid_out) else None
    if win is not None and len(win.kernel) == len(state.size):
        rf, formula = apply_window(state, win)
        return rf, formula, win
    if grid_in == grid_out:
        return state, "", None
    return Undefined(f"{type(mod).__name__} changes the grid without a fixed window"), "", None


def _prefixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def unit_box(rf: ReceptiveField, position, grid) -> tuple[int, ...]:
    """``(lows…, highs…)`` per axis (high exclusive), clipped to ``grid``."""
    lows, highs = [], []
    for r, j, s, p, n in zip(rf.size, rf.jump, rf.start, position, grid, strict=True):
        low = int(math.floor(s + p * j - (r - 1) / 2 + 1e-9))
        lows.append(min(max(low, 0), n))
        highs.append(min(max(low + r, 0), n))
    return (*lows, *highs)


def effective_receptive_field(model, layer: str, x, position, channel: int | None = None):
    """``|d unit / d input|`` summed over colours (and time): ``(H, W)`` numpy.

    ``unit`` is ``layer``'s output at ``position`` (its grid, ``(h, w)`` or ``(t, h, w)``),
    channel ``channel`` or the sum over channels.  Weights stay frozen; the forward pass
    stops at the layer.
    """
    module = model.layer_module(layer)
    x = x.detach().to(model.device).requires_grad_(True)
    captured = {}

    class _Stop(Exception):
        pass

    def hook(_m, _i, output):
        captured["out"] = output
        raise _Stop

    handle = module.register_forward_hook(hook)
    try:
        with torch.enable_grad():
            try:
                model.module(x)
            except _Stop:
                pass
            out = captured.get("out")
            if not isinstance(out, torch.Tensor) or out.ndim != len(position) + 2:
                raise InputError(f"layer {layer} has no ({', '.join('hw')}) grid to pick "
                                 f"unit {tuple(position)} from")
            unit = out[0] if channel is None else out[0, channel:channel + 1]
            unit[(slice(None), *position)].sum().backward()
    finally:
        handle.remove()
    grad = x.grad.abs().sum(dim=1)[0]
    if grad.ndim == 3:
        grad = grad.sum(dim=0)
    return np.asarray(grad.detach().cpu().numpy(), dtype=np.float64)
