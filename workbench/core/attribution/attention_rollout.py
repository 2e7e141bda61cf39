"""Attention rollout for vision transformers: attention matrices (plus the residual
identity) multiplied through the layers; the class token's row is the map.

Abnar & Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020,
https://arxiv.org/abs/2005.00928 — with the head fusion and discard ratio of
Gildenblat's ViT explainability write-up.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import torch
from torch import nn

from workbench.core.attribution.base import (
    AttributionResult,
    Method,
    register,
    resolve_targets,
    spatial_size,
    upsample,
)
from workbench.core.params import param
from workbench.errors import InputError


@dataclass
class RolloutParams:
    head_fusion: str = param("mean", choices=("mean", "max", "min"), help="how heads combine")
    discard_ratio: float = param(0.0, low=0.0, high=0.99, step=0.05,
                                 help="fraction of the weakest attentions dropped per layer")


@contextlib.contextmanager
def recorded_attention(net: nn.Module):
    """Make every ``nn.MultiheadAttention`` return per-head weights, and record them."""
    layers = [m for m in net.modules() if isinstance(m, nn.MultiheadAttention)]
    if not layers:
        raise InputError("attention rollout needs a transformer built from "
                         "nn.MultiheadAttention (e.g. torchvision vit_b_16)")
    weights: list[torch.Tensor] = []

    def ask_weights(_module, args, kwargs):
        kwargs["need_weights"] = True
        kwargs["average_attn_weights"] = False
        return args, kwargs

    def keep(_module, _args, output):
        weights.append(output[1].detach())

    handles = [m.register_forward_pre_hook(ask_weights, with_kwargs=True) for m in layers]
    handles += [m.register_forward_hook(keep) for m in layers]
    try:
        yield weights
    finally:
        for handle in handles:
            handle.remove()


def rollout(attentions: list[torch.Tensor], head_fusion: str, discard_ratio: float):
    """``[(N, heads, L, L)] → (N, L - 1)``: the class token's rolled-out attention to patches."""
    n, _, tokens, _ = attentions[0].shape
    eye = torch.eye(tokens, device=attentions[0].device)
    result = eye.expand(n, tokens, tokens)
    for attention in attentions:
        fused = getattr(attention.float(), head_fusion)(dim=1)
        if head_fusion != "mean":
            fused = fused.values
        if discard_ratio > 0:
            flat = fused.flatten(1)
            drop = int(flat.shape[1] * discard_ratio)
            lowest = flat.topk(drop, dim=1, largest=False).indices
            kept = flat.scatter(1, lowest, 0.0)
            kept[:, 0] = flat[:, 0]  # never drop the class token's attention to itself
            fused = kept.view_as(fused)
        mixed = (fused + eye) / 2
        mixed = mixed / mixed.sum(dim=-1, keepdim=True)
        result = mixed @ result
    return result[:, 0, 1:]


class AttentionRollout(Method):
    name = "attention-rollout"
    title = "Attention rollout"
    paper = "https://arxiv.org/abs/2005.00928"
    params_cls = RolloutParams
    needs_layer = False
    supports_video = False

    def compute(self, model, x, targets, layer, params, ctx):
        with recorded_attention(model.module.net) as attentions, torch.inference_mode():
            logits = model.module(x)
        targets = resolve_targets(logits, targets, logits.shape[1])
        cls_row = rollout(attentions, params.head_fusion, params.discard_ratio)
        side = math.isqrt(cls_row.shape[1])
        if side * side != cls_row.shape[1]:
            raise InputError(f"{cls_row.shape[1]} patch tokens do not form a square grid")
        grid = cls_row.view(-1, side, side)
        maps = upsample(grid, spatial_size(x))
        return AttributionResult(maps, targets.tolist(), self.name, None, logits)


register(AttentionRollout())
