"""PGD (L2): steps along the L2-normalized gradient, projected into the L2 ball.

Madry, Makelov, Schmidt, Tsipras & Vladu, "Towards Deep Learning Models
Resistant to Adversarial Attacks", ICLR 2018, https://arxiv.org/abs/1706.06083
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.core.adversarial.base import (
    GradientAttack,
    clip_pixels,
    generator_for,
    per_image_norm,
    project_l2,
    register,
)
from workbench.core.params import param


@dataclass
class PGDL2Params:
    eps: float = param(1.0, low=0.0, high=1000.0, step=0.1,
                       help="L2 budget in pixel units (over all pixels and colours)")
    step_size: float = param(0.2, low=0.0, high=1000.0, step=0.05,
                             help="L2 length of each step in pixel units")
    steps: int = param(10, low=1, high=10000, help="number of steps")
    random_start: bool = param(True, help="start from a random point of the ball")
    early_stop: bool = param(False, help="stop moving an image once it fools the model")
    seed: int = param(0, low=0, high=2**31 - 1, help="seed of the random start")


class PGDL2(GradientAttack):
    name = "pgd-l2"
    title = "PGD (L2)"
    paper = "https://arxiv.org/abs/1706.06083"
    norm = "l2"
    params_cls = PGDL2Params

    def start(self, x, eps, params):
        if not params.random_start:
            return x.clone()
        gen = generator_for(x, params.seed)
        direction = torch.randn(x.shape, generator=gen, device=x.device)
        radius = torch.rand(eps.shape, generator=gen, device=x.device) * eps
        return x + direction / per_image_norm(direction).clamp_min(1e-12) * radius

    def step(self, adv, x, grad, eps, alpha, params, state, index):
        moved = adv + alpha * grad / per_image_norm(grad).clamp_min(1e-12)
        return clip_pixels(project_l2(moved, x, eps))


register(PGDL2())
