"""MI-FGSM: iterative FGSM on an accumulated, L1-normalized gradient (momentum).

Dong, Liao, Pang, Su, Zhu, Hu & Li, "Boosting Adversarial Attacks with
Momentum", CVPR 2018, https://arxiv.org/abs/1710.06081
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.core.adversarial.base import clip_pixels, project_linf, register
from workbench.core.adversarial.bim import BIM
from workbench.core.adversarial.fgsm import fgsm_step
from workbench.core.params import param


@dataclass
class MIFGSMParams:
    eps: float = param(8 / 255, low=0.0, high=1.0, step=1 / 255,
                       help="L∞ budget in pixel units")
    step_size: float = param(2 / 255, low=0.0, high=1.0, step=1 / 255,
                             help="size of each step in pixel units")
    steps: int = param(10, low=1, high=10000, help="number of steps")
    decay: float = param(1.0, low=0.0, high=10.0, help="momentum decay factor μ")
    early_stop: bool = param(False, help="stop moving an image once it fools the model")


class MIFGSM(BIM):
    name = "mifgsm"
    title = "MI-FGSM (momentum)"
    paper = "https://arxiv.org/abs/1710.06081"
    params_cls = MIFGSMParams

    def init_state(self, x, params):
        return {"momentum": torch.zeros_like(x)}

    def step(self, adv, x, grad, eps, alpha, params, state, index):
        l1 = grad.abs().flatten(1).mean(dim=1).clamp_min(1e-12)
        grad = grad / l1.view(-1, *([1] * (grad.ndim - 1)))
        momentum = params.decay * state["momentum"][index] + grad
        state["momentum"].index_copy_(0, index, momentum)
        return clip_pixels(project_linf(fgsm_step(adv, momentum, alpha), x, eps))


register(MIFGSM())
