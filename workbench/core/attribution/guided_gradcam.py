"""Guided Grad-CAM: Guided Backpropagation's map multiplied by the upsampled Grad-CAM.

Selvaraju et al., ICCV 2017, https://arxiv.org/abs/1610.02391 (Section 3.1).
"""

from workbench.core.attribution.base import AttributionResult, Method, register
from workbench.core.attribution.gradcam import GradCam
from workbench.core.attribution.gradients import magnitude
from workbench.core.attribution.guided_backprop import guided_gradients


class GuidedGradCam(Method):
    name = "guided-gradcam"
    title = "Guided Grad-CAM"
    paper = "https://arxiv.org/abs/1610.02391"

    def passes(self, model, layer, params) -> float:
        return 6.0

    def compute(self, model, x, targets, layer, params, ctx):
        cam = GradCam().compute(model, x, targets, layer, None, ctx)
        ctx.check()
        grads, _, _ = guided_gradients(model, x, cam.targets)
        maps = magnitude(grads) * cam.maps
        return AttributionResult(maps, cam.targets, self.name, layer, cam.logits)


register(GuidedGradCam())
