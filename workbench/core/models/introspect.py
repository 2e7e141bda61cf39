"""Layer list with output shapes and the default CAM layer, from one dry forward pass."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from workbench.core.models.loaded import LayerInfo, PixelModel

_SKIP_FOR_CAM = ("Pool", "Dropout", "Identity", "Flatten")


def first_tensor(output):
    """A module's output (or inputs) as one tensor: itself, or the first of a tuple."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    return None


@dataclass
class DryPass:
    """What one forward pass of random pixels tells about a network.

    ``shapes`` and ``order``: each module's output shape and the order they finished
    (``None`` for a network that cannot carry hooks: TorchScript); ``output``: what the
    network returned; ``tokens``: the 3-D outputs kept, with their autograd graph, for the
    test of which token layer still reaches the output (``_last_token_layer_with_gradient``).
    """

    shapes: dict[str, tuple[int, ...]] | None
    order: list[str]
    output: object
    tokens: dict[str, torch.Tensor] = field(default_factory=dict)


def dry_pass(model: PixelModel, input_shape, device) -> DryPass:
    """One forward pass (gradients on: the token-layer test reuses its graph) that records
    every module's output shape and returns the network's raw output."""
    modules = [(name, mod) for name, mod in model.net.named_modules() if name]
    shapes: dict[str, tuple[int, ...]] = {}
    order: list[str] = []
    tokens: dict[str, torch.Tensor] = {}

    def make_hook(name):
        def hook(_module, _inputs, output):
            tensor = first_tensor(output)
            if tensor is not None:
                shapes[name] = tuple(tensor.shape)
                order.append(name)
                if tensor.ndim == 3 and tensor.requires_grad:
                    tokens[name] = tensor

        return hook

    handles = []
    try:
        for name, mod in modules:
            handles.append(mod.register_forward_hook(make_hook(name)))
    except RuntimeError:  # TorchScript modules cannot carry Python hooks
        for handle in handles:
            handle.remove()
        handles, shapes = [], None
    seed = torch.Generator().manual_seed(0)
    x = torch.rand(input_shape, generator=seed).to(device).requires_grad_(True)
    try:
        with torch.enable_grad():
            output = model.net(model.normalize(x))
    finally:
        for handle in handles:
            handle.remove()
    return DryPass(shapes, order, output, tokens)


def _probe_shapes(model: PixelModel, modules, input_shape, device) -> dict:
    """Shapes at an input wider by a quarter (at least 32 px); what ran before a failure."""
    wider = (*input_shape[:-1], input_shape[-1] + max(32, input_shape[-1] // 4))
    shapes: dict = {}
    handles = [mod.register_forward_hook(
        lambda _m, _i, out, n=name: shapes.__setitem__(n, tuple(first_tensor(out).shape))
        if first_tensor(out) is not None else None) for name, mod in modules]
    try:
        with torch.inference_mode():
            model(torch.zeros(wider, device=device))
    except Exception:  # noqa: BLE001 - a model of fixed input size: keep the partial shapes
        pass
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def _needs_probe(shapes: dict, input_grid) -> bool:
    """The square-input rule decides alone unless the input is not square or a layer is
    ambiguous (e.g. as many channels as rows)."""
    from workbench.core.models.layout import detect_layout

    if input_grid[-1] != input_grid[-2]:
        return True
    return any(len(shape) in (4, 5) and detect_layout(shape, None, input_grid)[0] is None
               for shape in shapes.values())


def describe_layers(
    model: PixelModel, input_shape: tuple[int, ...], device: torch.device,
    dry: DryPass | None = None,
) -> tuple[list[LayerInfo], list[str]]:
    """Each module's output shape and layout, from a dry forward pass (``dry``, else one
    run here).

    Returns
    -------
    layers
        One :class:`LayerInfo` per named module, in definition order.
    execution_order
        Module names in the order their forward finished.
    """
    from workbench.core.models.layout import CHANNELS_FIRST, detect_layout

    modules = [(name, mod) for name, mod in model.net.named_modules() if name]
    dry = dry or dry_pass(model, input_shape, device)
    if dry.shapes is None:
        return [], []
    shapes, order = dry.shapes, dry.order
    input_grid = tuple(input_shape[2:])
    probe = _probe_shapes(model, modules, input_shape, device) if _needs_probe(
        shapes, input_grid) else {}
    patch_time = None
    if len(input_grid) == 3:  # a video transformer's tokens follow its patch grid's time
        first = next((n for n in order if len(shapes[n]) == 5 and detect_layout(
            shapes[n], probe.get(n), input_grid)[0] == CHANNELS_FIRST), None)
        patch_time = shapes[first][2] if first else None
    prefix = getattr(model.net, "num_prefix_tokens", None)  # timm: class + register tokens
    prefix = prefix if isinstance(prefix, int) else None
    layers = []
    for name, mod in modules:
        shape = shapes.get(name)
        layout, grid, channels = detect_layout(shape, probe.get(name), input_grid, patch_time,
                                               prefix)
        layers.append(LayerInfo(
            name=name, type_name=type(mod).__name__, output_shape=shape,
            num_params=sum(p.numel() for p in mod.parameters()), depth=name.count(".") + 1,
            layout=layout, grid=tuple(grid), channels=channels))
    return layers, order


def default_cam_layer(
    model: PixelModel, layers: list[LayerInfo], order: list[str], input_shape, device,
    dry: DryPass | None = None,
) -> str | None:
    """The last layer (in execution order) with a spatial output, else the last token layer
    whose patch tokens still reach the output."""
    info = {layer.name: layer for layer in layers}
    for name in reversed(order):
        layer = info[name]
        if layer.is_tokens:
            token_layers = [n for n in order if info[n].is_tokens]
            dry = dry if dry is not None and dry.tokens else dry_pass(model, input_shape, device)
            return _last_token_layer_with_gradient(token_layers, dry.tokens)
        if layer.is_spatial and not any(s in layer.type_name for s in _SKIP_FOR_CAM):
            return name
    return None


def _last_token_layer_with_gradient(names: list[str], kept: dict) -> str | None:
    """Among token layers, the last one whose patch tokens reach the final class token.

    (The patch tokens of a ViT's last block never reach the class token, so a
    CAM there would be blank.)  The gradient is taken of the last token layer's
    class token (projected on a random direction: the plain sum after a LayerNorm is
    constant), so it does not depend on the classifier head's weights.  Walking back from
    the end, each test backpropagates only as far as the layer it asks about.
    """
    if not names:
        return None
    final = kept.get(names[-1])
    if final is None:
        return names[-1]
    probe = torch.randn(final[:, 0].shape, generator=torch.Generator().manual_seed(0))
    target = (final[:, 0] * probe.to(final.device)).sum()
    try:
        for name in reversed(list(dict.fromkeys(names[:-1]))):
            tensor = kept.get(name)
            if tensor is None:
                continue
            (grad,) = torch.autograd.grad(target, tensor, retain_graph=True, allow_unused=True)
            if grad is not None and float(grad[:, 1:].abs().sum()) > 0:
                return name
    finally:
        kept.clear()  # frees the graph
    return names[-1]


def freeze(module: nn.Module) -> nn.Module:
    """Put a module in eval mode with frozen weights (gradients only where a method asks)."""
    module.eval()
    for param in module.parameters():
        param.requires_grad_(False)
    return module


def count_hooks(module: nn.Module) -> int:
    """All forward, pre-forward and backward hooks registered anywhere in ``module``."""
    return sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
        + len(getattr(m, "_backward_pre_hooks", {}))
        for m in module.modules()
    )
