"""A small random CNN wrapped as a pixel-space model, and contexts that cancel."""

import torch
from torch import nn

from workbench.core.models.registry import wrap_model

CLASSES = 5


def tiny_model(seed: int = 0, size: int = 16):
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
        nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(32, CLASSES),
    )
    with torch.no_grad():
        net[-1].weight.mul_(8.0)  # decisive logits, so attacks have something to move
    prep = {"mean": (0.5,) * 3, "std": (0.25,) * 3, "input_size": (size, size)}
    return wrap_model(net, prep, [f"class {i}" for i in range(CLASSES)], "tiny", "test",
                      "image", torch.device("cpu"))


def pixels(n: int, seed: int = 1, size: int = 16):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))
