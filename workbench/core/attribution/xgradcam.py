"""XGrad-CAM: gradients weighted by the activations' share of their channel sum.

Fu et al., "Axiom-based Grad-CAM: Towards Accurate Visualization and
Explanation of CNNs", BMVC 2020, https://arxiv.org/abs/2008.02312
"""

from workbench.core.attribution.base import register
from workbench.core.attribution.cam import CamMethod, ChannelWeightParams, weight_dims


class XGradCam(CamMethod):
    name = "xgradcam"
    title = "XGrad-CAM"
    params_cls = ChannelWeightParams
    paper = "https://arxiv.org/abs/2008.02312"

    def combine(self, activations, gradients, params):
        dims = weight_dims(gradients, params)
        sums = activations.sum(dim=dims, keepdim=True)
        share = activations / sums.where(sums != 0, sums.new_ones(()))
        weights = (share * gradients).sum(dim=dims, keepdim=True)
        return (weights * activations).sum(dim=1).relu()


register(XGradCam())
