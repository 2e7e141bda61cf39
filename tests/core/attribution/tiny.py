"""Tiny networks whose activations and gradients are known by hand."""

import torch
from torch import nn

from workbench.core.models.registry import wrap_model


class KnownNet(nn.Module):
    """x (N, 3, 4, 4) → 1×1 conv (2 channels) → ReLU ("relu") → flatten → linear (3 classes).

    At layer ``relu`` the activation is ``A = relu(Wc · x)`` and the gradient of
    class ``t`` is ``W_fc[t]`` reshaped to ``(2, 4, 4)`` — spatially varying and
    independent of the input.
    """

    def __init__(self, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.conv = nn.Conv2d(3, 2, 1, bias=False)
        self.relu = nn.ReLU()
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(2 * 4 * 4, 3)
        with torch.no_grad():
            self.conv.weight.copy_(torch.rand(2, 3, 1, 1, generator=g) + 0.1)
            self.fc.weight.copy_(torch.randn(3, 32, generator=g))
            self.fc.bias.zero_()

    def forward(self, x):
        return self.fc(self.flatten(self.relu(self.conv(x))))


def known_model(seed: int = 0):
    prep = {"mean": (0.0,) * 3, "std": (1.0,) * 3, "input_size": (4, 4)}
    return wrap_model(KnownNet(seed), prep, ["a", "b", "c"], "known", "test", "image",
                      torch.device("cpu"))


def hook_count(module: nn.Module) -> int:
    from workbench.core.models.introspect import count_hooks

    return count_hooks(module)
