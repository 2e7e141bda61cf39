"""Layer list with output shapes and the default CAM layer, from one dry forward pass."""

from __future__ import annotations

import torch
from torch import nn

from workbench.core.models.loaded import LayerInfo, PixelModel

_SKIP_FOR_CAM = ("Pool", "Dropout", "Identity", "Flatten")


def _first_tensor(output):
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    return None


def describe_layers(
    model: PixelModel, input_shape: tuple[int, ...], device: torch.device
) -> tuple[list[LayerInfo], list[str]]:
    """Run one dry forward pass and record each module's output shape.

    Returns
    -------
    layers
        One :class:`LayerInfo` per named module, in definition order.
    execution_order
        Module names in the order their forward finished.
    """
    modules = [(name, mod) for name, mod in model.net.named_modules() if name]
    shapes: dict[str, tuple[int, ...]] = {}
    order: list[str] = []
    handles = []

    def make_hook(name):
        def hook(_module, _inputs, output):
            tensor = _first_tensor(output)
            if tensor is not None:
                shapes[name] = tuple(tensor.shape)
                order.append(name)

        return hook

    try:
        for name, mod in modules:
            handles.append(mod.register_forward_hook(make_hook(name)))
    except RuntimeError:  # TorchScript modules cannot carry Python hooks
        for handle in handles:
            handle.remove()
        return [], []
    try:
        with torch.inference_mode():
            model(torch.zeros(input_shape, device=device))
    finally:
        for handle in handles:
            handle.remove()
    layers = [
        LayerInfo(
            name=name,
            type_name=type(mod).__name__,
            output_shape=shapes.get(name),
            num_params=sum(p.numel() for p in mod.parameters()),
            depth=name.count(".") + 1,
        )
        for name, mod in modules
    ]
    return layers, order


def default_cam_layer(
    model: PixelModel, layers: list[LayerInfo], order: list[str], input_shape, device
) -> str | None:
    """The last layer (in execution order) with a spatial output, else the last token layer
    whose patch tokens still reach the output."""
    info = {layer.name: layer for layer in layers}
    for name in reversed(order):
        layer = info[name]
        if layer.is_tokens:
            token_layers = [n for n in order if info[n].is_tokens]
            return _last_token_layer_with_gradient(model, token_layers, input_shape, device)
        if layer.is_spatial and not any(s in layer.type_name for s in _SKIP_FOR_CAM):
            return name
    return None


def _last_token_layer_with_gradient(model, names, input_shape, device) -> str | None:
    """Among token layers, the last one whose patch tokens reach the final class token.

    (The patch tokens of a ViT's last block never reach the class token, so a
    CAM there would be blank.)  The gradient is taken of the last token layer's
    class token (projected on a random direction: the plain sum after a LayerNorm is
    constant), so it does not depend on the classifier head's weights.
    """
    if not names:
        return None
    grads: dict[str, float] = {}
    outputs: dict[str, torch.Tensor] = {}
    handles = []

    def make_hook(name):
        def hook(_module, _inputs, output):
            tensor = _first_tensor(output)
            if tensor is not None and tensor.requires_grad:
                outputs[name] = tensor
                tensor.register_hook(
                    lambda g: grads.__setitem__(name, float(g[:, 1:].abs().sum()))
                )

        return hook

    unique = list(dict.fromkeys(names))
    for name in unique:
        handles.append(model.net.get_submodule(name).register_forward_hook(make_hook(name)))
    try:
        x = torch.rand(input_shape, device=device)
        with torch.enable_grad():
            x.requires_grad_(True)
            model(x)
            final = outputs.get(names[-1])
            if final is not None:
                probe = torch.randn(final[:, 0].shape, device=final.device)
                (final[:, 0] * probe).sum().backward()
    finally:
        for handle in handles:
            handle.remove()
        outputs.clear()
    live = [n for n in names if grads.get(n, 0.0) > 0]
    return live[-1] if live else names[-1]


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
