"""BIM (iterative FGSM): small FGSM steps, each projected back into the L∞ ball.

Kurakin, Goodfellow & Bengio, "Adversarial Examples in the Physical World",
ICLR 2017 workshop, https://arxiv.org/abs/1607.02533
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.core.adversarial.base import register
from workbench.core.adversarial.fgsm import FGSM
from workbench.core.params import param


@dataclass
class BIMParams:
    eps: float = param(8 / 255, low=0.0, high=1.0, step=1 / 255,
                       help="L∞ budget in pixel units")
    step_size: float = param(1 / 255, low=0.0, high=1.0, step=1 / 255,
                             help="size of each step in pixel units")
    steps: int = param(10, low=1, high=10000, help="number of steps")
    early_stop: bool = param(False, help="stop moving an image once it fools the model")


class BIM(FGSM):
    name = "bim"
    title = "BIM (iterative FGSM)"
    paper = "https://arxiv.org/abs/1607.02533"
    params_cls = BIMParams

    def num_steps(self, params) -> int:
        return params.steps

    def step_size(self, params):
        return params.step_size


register(BIM())
