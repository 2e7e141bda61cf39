"""HiResCAM: element-wise gradient × activation, summed over channels (no averaging).

Draelos & Carin, "Use HiResCAM instead of Grad-CAM for faithful explanations
of convolutional neural networks", 2020, https://arxiv.org/abs/2011.08891
"""

from workbench.core.attribution.base import register
from workbench.core.attribution.cam import CamMethod


class HiResCam(CamMethod):
    name = "hirescam"
    title = "HiResCAM"
    paper = "https://arxiv.org/abs/2011.08891"

    def combine(self, activations, gradients, params):
        return (gradients * activations).sum(dim=1).relu()


register(HiResCam())
