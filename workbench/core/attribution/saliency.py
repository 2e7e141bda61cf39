"""Vanilla saliency: the largest absolute input gradient over the colour channels.

Simonyan, Vedaldi & Zisserman, "Deep Inside Convolutional Networks: Visualising
Image Classification Models and Saliency Maps", 2013, https://arxiv.org/abs/1312.6034
"""

from workbench.core.attribution.base import AttributionResult, Method, register
from workbench.core.attribution.gradients import input_gradients, magnitude


class Saliency(Method):
    name = "saliency"
    title = "Saliency"
    paper = "https://arxiv.org/abs/1312.6034"
    needs_layer = False

    def compute(self, model, x, targets, layer, params, ctx):
        grads, logits, targets = input_gradients(model, x, targets)
        return AttributionResult(magnitude(grads), targets.tolist(), self.name, None, logits)


register(Saliency())
