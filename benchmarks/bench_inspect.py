"""Model inspector (issue 15): time of ``inspect_model`` (the dry pass on the meta device with
FLOP counting, the fx trace and the receptive-field propagation) — target < 2 s on
ResNet-50 and ViT-B/16, < 0.5 s on EfficientNet-Lite0.  The limit column is one plain
forward pass of batch 1 on the device, for scale.  Random weights: the cost does not depend
on them.  Receptive fields after https://distill.pub/2019/computing-receptive-fields/.
"""

from __future__ import annotations

import torch

from benchmarks.common import Row, interleaved

MODELS = (("resnet50:random", 2.0), ("vit_b_16:random", 2.0), ("efficientnet_lite0", 0.5))


def forward(model) -> None:
    with torch.inference_mode():
        model.module(torch.zeros(model.input_shape(1), device=model.device))


def inspect_row(name: str, target_s: float, device: str, rounds: int) -> Row:
    from workbench.core.inspect import inspect_model
    from workbench.core.models import load_model

    model = load_model(name, device=device)
    ours, limit = interleaved(lambda: inspect_model(model), lambda: forward(model), rounds,
                              warmup=1)
    verdict = "met" if ours < target_s * 1000 else "MISSED"
    return Row(f"inspect_model, {name} ({len(model.layers)} layers)", ours, limit,
               f"target < {target_s:g} s ({verdict}); limit = one forward pass, batch 1")


def run(device: str = "cpu", rounds: int = 5):
    return [inspect_row(name, target, device, rounds) for name, target in MODELS]


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
