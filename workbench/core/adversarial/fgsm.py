"""FGSM: one step of size eps along the sign of the input gradient of the loss.

Goodfellow, Shlens & Szegedy, "Explaining and Harnessing Adversarial Examples",
ICLR 2015, https://arxiv.org/abs/1412.6572
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.core.adversarial.base import GradientAttack, clip_pixels, project_linf, register
from workbench.core.params import param


@dataclass
class FGSMParams:
    eps: float = param(8 / 255, low=0.0, high=1.0, step=1 / 255,
                       help="L∞ budget in pixel units (8/255 = eight grey levels)")


def fgsm_step(adv: torch.Tensor, grad: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """The step every L∞ sign-gradient attack takes: ``adv + alpha · sign(grad)``."""
    return adv + alpha * grad.sign()


class FGSM(GradientAttack):
    name = "fgsm"
    title = "FGSM"
    paper = "https://arxiv.org/abs/1412.6572"
    params_cls = FGSMParams

    def num_steps(self, params) -> int:
        return 1

    def step_size(self, params):
        return params.eps

    def step(self, adv, x, grad, eps, alpha, params, state, index):
        return clip_pixels(project_linf(fgsm_step(adv, grad, alpha), x, eps))


register(FGSM())
