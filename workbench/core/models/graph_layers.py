"""Layers of graph-compiled models (``torch.export`` programs and TorchScript) as hookable modules.

A ``torch.export`` program (``.pt2``) or a TorchScript file runs one flat graph:
its layers are no longer Python modules, so forward hooks (how every layer
method of the workbench reads a layer, DESIGN.md §2, §4) cannot reach them.
Both kinds of graph still know, for each operation, which module of the
original network it came from: ``node.meta["nn_module_stack"]`` in an exported
program, ``Node.getModuleHierarchy()`` in a TorchScript graph.

One mechanism serves both.  The program becomes an ``fx.GraphModule`` whose
operations carry their module scope (TorchScript is translated by PyTorch's
``TS2FXGraphConverter``); then, after the last operation of each call of a
module, an identity *marker* submodule named by the original path
(``layer4.1.conv2``) is inserted, and everything after that operation reads the
marker's output.  So an ordinary forward hook on the marker sees that module's
output, and a hook that replaces the output (Grad-CAM's gradient leaf) feeds the
rest of the graph.  The markers carry the original parameters under their
original names, and their class is named after the original module type
(``Conv2d``, ``BasicBlock``), so the layer tree reads as the eager model's.

Limits: a module whose operations were all optimized away (``Identity``,
``Dropout`` in eval mode) has no marker; a module's output is the value of its
last operation (a module returning several values shows the last one).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import torch
from torch import fx, nn

from workbench.errors import InputError, ModelLoadError

EXPORT_SUFFIXES = (".pt2",)
SCOPE_KEY = "workbench_scope"  # node meta: [(call key, path, type name)], outermost first
EXPORT_RECIPE = (
    "ep = torch.export.export(model.eval(), (torch.rand(2, 3, 224, 224),), "
    "dynamic_shapes=({0: torch.export.Dim('batch')},)); torch.export.save(ep, 'model.pt2')"
)
_COMPUTE_OPS = ("call_function", "call_method", "call_module")
_TS_SCOPE = re.compile(r"([A-Za-z0-9_]+)\(([^()]*)\)")


class LayerMarker(nn.Module):
    """Identity standing for one module of the original network; hooks on it see the
    module's output.  Subclassed per original type, so ``type(m).__name__`` is that type."""

    original_type = ""

    def forward(self, value):
        return value


_MARKER_CLASSES: dict[str, type] = {}


def marker_class(type_path: str) -> type:
    """The :class:`LayerMarker` subclass named after ``type_path``'s last component."""
    short = re.split(r"[.:]", type_path or "Module")[-1] or "Module"
    key = f"{short}|{type_path}"
    if key not in _MARKER_CLASSES:
        _MARKER_CLASSES[key] = type(short, (LayerMarker,), {
            "original_type": type_path, "__module__": __name__,
            "__doc__": f"Marker for a {type_path} of a graph-compiled model."})
    return _MARKER_CLASSES[key]


def check_input_shape(x, static: tuple):
    """Raise a clear error when ``x`` breaks a size the program was exported with."""
    if isinstance(x, torch.Tensor) and len(static) == x.ndim:
        bad = [i for i, s in enumerate(static) if s is not None and x.shape[i] != s]
        if bad:
            shape = tuple("*" if s is None else s for s in static)
            raise InputError(
                f"this torch.export program only takes inputs of shape {shape}, got "
                f"{tuple(x.shape)}; export it with a dynamic batch: {EXPORT_RECIPE}")
    return x


# --------------------------------------------------------------------------- scopes


def _export_scope(node: fx.Node) -> list[tuple[str, str, str]]:
    stack = node.meta.get("nn_module_stack") or {}
    scope = []
    for key, (path, type_path) in stack.items():
        path = re.sub(r"^L\['self'\]\.?|^L__self__\.?", "", str(path))
        if path:
            type_name = type_path if isinstance(type_path, str) else getattr(
                type_path, "__qualname__", str(type_path))
            scope.append((key, path, type_name))
    return scope


def _torchscript_scope(hierarchy: str) -> list[tuple[str, str, str]]:
    """``SELF(ResNet).layer4(Sequential).1(BasicBlock)`` → paths ``layer4``, ``layer4.1``."""
    scope, parts = [], []
    for instance, type_name in _TS_SCOPE.findall(hierarchy):
        if instance in ("SELF", "UNKNOWN_INSTANCE"):
            continue
        parts.append(instance)
        path = ".".join(parts)
        scope.append((path, path, type_name))
    return scope


def _calls(graph: fx.Graph):
    """Each module call as ``(path, type, last node)``: a maximal run of operations inside it."""
    calls, open_calls = [], {}
    for node in graph.nodes:
        if node.op not in _COMPUTE_OPS:
            continue
        scope = node.meta.get(SCOPE_KEY, [])
        keys = {key for key, _, _ in scope}
        for key in [k for k in open_calls if k not in keys]:
            calls.append(open_calls.pop(key))
        for key, path, type_name in scope:
            open_calls[key] = (path, type_name, node)
    calls.extend(open_calls.values())
    return calls


# --------------------------------------------------------------------------- markers


def _owner(root: nn.Module, path: str) -> nn.Module:
    module = root
    for part in [p for p in path.split(".") if p]:
        if part not in module._modules:
            module.add_module(part, nn.Module())
        module = module._modules[part]
    return module


def with_markers(gm: fx.GraphModule, class_name: str = "GraphNet",
                 parameters=()) -> fx.GraphModule:
    """A new ``GraphModule`` computing what ``gm`` does, with a marker per module call.

    ``gm``'s nodes carry ``meta[SCOPE_KEY]``; its ``get_attr`` tensors move onto the
    markers under their original names (as parameters: those of ``gm`` and the targets
    named in ``parameters``).
    """
    graph = gm.graph
    calls = _calls(graph)
    types: dict[str, str] = {}
    for path, type_name, _ in calls:
        types.setdefault(path, type_name)
    root = nn.Module()
    for path in sorted(types, key=lambda p: p.count(".")):  # parents first, order of first call
        parent, _, name = path.rpartition(".")
        _owner(root, parent).add_module(name, marker_class(types[path])())
    _reorder(root, list(types))
    for node in graph.nodes:
        if node.op == "get_attr":
            owner_path, _, field = node.target.rpartition(".")
            value = _fetch(gm, node.target)
            owner = _owner(root, owner_path)
            if field in owner._parameters or field in owner._buffers:
                continue
            if isinstance(value, nn.Parameter) or node.target in parameters:
                owner.register_parameter(field, nn.Parameter(value, requires_grad=False)
                                         if not isinstance(value, nn.Parameter) else value)
            elif isinstance(value, torch.Tensor):
                owner.register_buffer(field, value)
            else:
                setattr(owner, field, value)
    ends: dict[fx.Node, list[tuple[str, int]]] = {}
    for path, _, node in calls:
        ends.setdefault(node, []).append((path, path.count(".")))
    for node, paths in ends.items():
        value = node
        for path, _ in sorted(paths, key=lambda p: -p[1]):  # innermost module first
            with graph.inserting_after(value):
                marker = graph.create_node("call_module", path, (value,))
            value.replace_all_uses_with(marker, delete_user_cb=lambda user, m=marker: user is not m)
            value = marker
    out = fx.GraphModule(root, graph, class_name=class_name)
    _reorder(out, list(root._modules))
    return out


def _fetch(module: nn.Module, target: str):
    for part in target.split("."):
        module = getattr(module, part)
    return module


def _reorder(module: nn.Module, paths: list[str]) -> None:
    """Order ``module``'s children by the first call of each (definition order, mostly)."""
    first = [p.split(".")[0] for p in paths]
    rank = {name: i for i, name in reversed(list(enumerate(first)))}
    items = sorted(module._modules.items(), key=lambda kv: rank.get(kv[0], len(rank)))
    module._modules.clear()
    module._modules.update(items)
    for name, child in items:
        if child is not None:
            _reorder(child, [p.split(".", 1)[1] for p in paths
                             if p.startswith(name + ".")])


# --------------------------------------------------------------------------- entry points


def read_graph_file(path, input_size: int | tuple[int, int] | None = None):
    """``(net, source)`` for a ``.pt2`` or TorchScript file, else ``None``.

    The net's layers are hookable markers; a TorchScript file whose graph cannot be
    converted is returned as the ScriptModule itself (it predicts, layer methods say why
    they cannot run).
    """
    from workbench.core.models.checkpoint import is_torchscript

    path = Path(path)
    if is_exported_program(path):
        return load_exported(path), f"torch.export {path.name}"
    if not is_torchscript(path):
        return None
    try:
        with warnings.catch_warnings():  # TorchScript is deprecated, still widely used
            warnings.simplefilter("ignore", FutureWarning)
            script = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:
        raise ModelLoadError(f"Cannot load TorchScript file '{path}': {exc}") from exc
    from workbench.core.models.checkpoint import square_or_pair

    net = torchscript_layers(script.eval(), path, square_or_pair(input_size or 224))
    if net is None:
        return script, f"TorchScript {path.name}"
    return net, f"TorchScript {path.name} (layers from its graph)"


def is_exported_program(path) -> bool:
    """True for a ``torch.export.save`` archive (``.pt2``)."""
    import zipfile

    path = Path(path)
    if path.suffix.lower() in EXPORT_SUFFIXES:
        return True
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return any(n.endswith(("/archive_format", "serialized_exported_program.json"))
               or ("/models/" in n and n.endswith(".json")) for n in names)


def from_exported_program(program) -> fx.GraphModule:
    """An ``ExportedProgram`` as a module whose layers carry the original module paths."""
    gm = program.module()
    static = _static_input_shapes(gm)
    for node in list(gm.graph.nodes):
        if node.op == "call_module" and "guards" in str(node.target):
            gm.graph.erase_node(node)  # replaced by check_input_shape below
        else:
            node.meta[SCOPE_KEY] = _export_scope(node)
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if placeholders and static is not None:
        first = placeholders[0]
        with gm.graph.inserting_after(placeholders[-1]):
            checked = gm.graph.call_function(check_input_shape, (first, static))
        first.replace_all_uses_with(checked, delete_user_cb=lambda user: user is not checked)
    return with_markers(gm, "ExportedNet")


def _static_input_shapes(gm: fx.GraphModule):
    """The first input's sizes as exported: ints where fixed, ``None`` where dynamic."""
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            val = node.meta.get("val")
            if isinstance(val, torch.Tensor):
                return tuple(s if isinstance(s, int) else None for s in val.shape)
            return None
    return None


def load_exported(path) -> fx.GraphModule:
    """Read a ``.pt2`` file with :func:`from_exported_program`."""
    try:
        program = torch.export.load(str(path))
    except Exception as exc:
        raise ModelLoadError(f"Cannot load torch.export file '{path}': {_first_line(exc)}") from exc
    try:
        return from_exported_program(program)
    except Exception as exc:
        raise ModelLoadError(
            f"Cannot read the layers of torch.export file '{path}': {_first_line(exc)}") from exc


def from_torchscript(script: torch.jit.ScriptModule, example: torch.Tensor) -> fx.GraphModule:
    """A TorchScript module as a hookable module, via PyTorch's TorchScript → fx converter
    (a private API: raises when the converter is missing or fails on the graph)."""
    from torch._export import converter

    ep_converter = converter.TS2EPConverter(script, (example,))
    blocks, fqns = converter.get_block_to_lifted_attrs(ep_converter.ts_graph)

    class ScopedConverter(converter.TS2FXGraphConverter):
        def convert_node(self, node):
            last = self.fx_graph._root.prev
            super().convert_node(node)
            scope = _torchscript_scope(node.getModuleHierarchy())
            new = self.fx_graph._root.prev
            while new is not last and new.op != "root":
                new.meta[SCOPE_KEY] = scope
                new = new.prev

    gm = ScopedConverter(
        ep_converter.ts_graph, ep_converter.name_to_param, ep_converter.name_to_buffer, blocks,
        ep_converter.name_to_non_tensor_attributes, ep_converter.name_to_constant, fqns,
    ).convert()
    return with_markers(gm, "ScriptNet", set(ep_converter.name_to_param))


def torchscript_layers(script, path, input_size: tuple[int, int] = (224, 224)):
    """:func:`from_torchscript` on a loaded file, checked against the script's own output;
    ``None`` (with a warning) when the layers cannot be read, so the script still runs."""
    example = torch.rand(1, 3, *input_size)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = from_torchscript(script, example)
            with torch.no_grad():
                same = torch.allclose(net(example), script(example), rtol=1e-4, atol=1e-5,
                                      equal_nan=True)
    except Exception as exc:  # noqa: BLE001 - private converter: any failure means "no layers"
        warnings.warn(f"layers of TorchScript '{path}' cannot be read ({_first_line(exc)}); "
                      f"{TORCHSCRIPT_ADVICE}", stacklevel=2)
        return None
    if not same:
        warnings.warn(f"the layer view of TorchScript '{path}' computes other outputs; "
                      f"{TORCHSCRIPT_ADVICE}", stacklevel=2)
        return None
    return net


TORCHSCRIPT_ADVICE = (
    "to use methods at a layer, export the model with torch.export instead: " + EXPORT_RECIPE)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
