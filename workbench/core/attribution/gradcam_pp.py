"""Grad-CAM++: channel weights are positive gradients weighted by the closed-form alphas.

Chattopadhyay et al., "Grad-CAM++: Improved Visual Explanations for Deep
Convolutional Networks", WACV 2018, https://arxiv.org/abs/1710.11063 (Eq. 19,
with the exponential score so that higher derivatives are powers of the first).
"""

from workbench.core.attribution.base import register
from workbench.core.attribution.cam import CamMethod, ChannelWeightParams, weight_dims


class GradCamPlusPlus(CamMethod):
    name = "gradcam++"
    title = "Grad-CAM++"
    params_cls = ChannelWeightParams
    paper = "https://arxiv.org/abs/1710.11063"

    def combine(self, activations, gradients, params):
        dims = weight_dims(gradients, params)
        g2, g3 = gradients.pow(2), gradients.pow(3)
        activation_sums = activations.sum(dim=dims, keepdim=True)
        denominator = 2 * g2 + activation_sums * g3
        denominator = denominator.where(denominator != 0, denominator.new_ones(()))
        alphas = (g2 / denominator).where(gradients != 0, gradients.new_zeros(()))
        weights = (alphas * gradients.relu()).sum(dim=dims, keepdim=True)
        return (weights * activations).sum(dim=1).relu()


register(GradCamPlusPlus())
