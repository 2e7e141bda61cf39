"""Layer-CAM: every position weighted by its own positive gradient.

Jiang et al., "LayerCAM: Exploring Hierarchical Class Activation Maps for
Localization", IEEE TIP 2021, https://doi.org/10.1109/TIP.2021.3089943
"""

from workbench.core.attribution.base import register
from workbench.core.attribution.cam import CamMethod


class LayerCam(CamMethod):
    name = "layercam"
    title = "Layer-CAM"
    paper = "https://doi.org/10.1109/TIP.2021.3089943"

    def combine(self, activations, gradients, params):
        return (gradients.relu() * activations).sum(dim=1).relu()


register(LayerCam())
