"""Guided Backpropagation: input gradients where every ReLU also blocks negative gradients.

Springenberg et al., "Striving for Simplicity: The All Convolutional Net",
ICLR-W 2015, https://arxiv.org/abs/1412.6806 — applied to ReLU-like modules
(ReLU, ReLU6, LeakyReLU, and smooth ones such as SiLU / GELU by the same rule).
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from workbench.core.attribution.base import AttributionResult, Method, register
from workbench.core.attribution.gradients import input_gradients, magnitude
from workbench.errors import InputError

RELU_LIKE = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.SiLU, nn.GELU, nn.Hardswish,
             nn.Mish)


class _PositiveGradient(torch.autograd.Function):
    """Identity forward; backward lets through positive gradients at positive outputs."""

    @staticmethod
    def forward(ctx, output):
        ctx.save_for_backward(output)
        return output.clone()

    @staticmethod
    def backward(ctx, grad):
        (output,) = ctx.saved_tensors
        return grad.clamp(min=0) * (output > 0)


@contextlib.contextmanager
def guided_relus(net: nn.Module):
    """Make every ReLU-like module guided for the duration of the block."""
    modules = [m for m in net.modules() if isinstance(m, RELU_LIKE)]
    if not modules:
        raise InputError("Guided Backpropagation needs ReLU-like modules (nn.ReLU, nn.GELU …); "
                         "this model applies its activations as functions")
    handles = [m.register_forward_hook(lambda _m, _i, out: _PositiveGradient.apply(out))
               for m in modules]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def guided_gradients(model, x, targets=None):
    with guided_relus(model.module.net):
        return input_gradients(model, x, targets)


class GuidedBackprop(Method):
    name = "guided-backprop"
    title = "Guided Backpropagation"
    paper = "https://arxiv.org/abs/1412.6806"
    needs_layer = False

    def compute(self, model, x, targets, layer, params, ctx):
        grads, logits, targets = guided_gradients(model, x, targets)
        return AttributionResult(magnitude(grads), targets.tolist(), self.name, None, logits,
                                 {"gradients": grads})


register(GuidedBackprop())
