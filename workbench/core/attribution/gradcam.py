"""Grad-CAM: channel weights are the spatial mean of the gradients.

Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization", ICCV 2017, https://arxiv.org/abs/1610.02391
"""

from workbench.core.attribution.base import register
from workbench.core.attribution.cam import CamMethod, ChannelWeightParams, weight_dims


class GradCam(CamMethod):
    name = "gradcam"
    title = "Grad-CAM"
    params_cls = ChannelWeightParams
    paper = "https://arxiv.org/abs/1610.02391"

    def combine(self, activations, gradients, params):
        weights = gradients.mean(dim=weight_dims(gradients, params), keepdim=True)
        return (weights * activations).sum(dim=1).relu()


register(GradCam())
