"""PGD (L∞): BIM from a random point of the ball — FGSM steps plus projection.

Madry, Makelov, Schmidt, Tsipras & Vladu, "Towards Deep Learning Models
Resistant to Adversarial Attacks", ICLR 2018, https://arxiv.org/abs/1706.06083
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.core.adversarial.base import generator_for, register
from workbench.core.adversarial.bim import BIM
from workbench.core.params import param


@dataclass
class PGDParams:
    eps: float = param(8 / 255, low=0.0, high=1.0, step=1 / 255,
                       help="L∞ budget in pixel units")
    step_size: float = param(2 / 255, low=0.0, high=1.0, step=1 / 255,
                             help="size of each step in pixel units")
    steps: int = param(10, low=1, high=10000, help="number of steps")
    random_start: bool = param(True, help="start from a uniformly random point of the ball")
    early_stop: bool = param(False, help="stop moving an image once it fools the model")
    seed: int = param(0, low=0, high=2**31 - 1, help="seed of the random start")


class PGD(BIM):
    name = "pgd"
    title = "PGD (L∞)"
    paper = "https://arxiv.org/abs/1706.06083"
    params_cls = PGDParams

    def start(self, x, eps, params):
        if not params.random_start:
            return x.clone()
        noise = torch.rand(x.shape, generator=generator_for(x, params.seed), device=x.device)
        return x + (noise * 2 - 1) * eps


register(PGD())
