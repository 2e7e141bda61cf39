"""Eigen-CAM: the activations projected on their first principal component (no gradients).

Muhammad & Yeasin, "Eigen-CAM: Class Activation Map using Principal
Components", IJCNN 2020, https://arxiv.org/abs/2008.00299

The positions' activation vectors are centred (each channel's mean over the positions
removed) before the SVD, as principal components are defined.  A singular vector's
sign is arbitrary: it is oriented so that the projection grows with the activations'
strength (their norm at each position), which also holds for layers whose activations
are mostly negative.  The centred projection has both signs wherever the activations
vary, so the map (its positive part, as for every CAM) is never empty then.
"""

import torch

from workbench.core.attribution.base import register
from workbench.core.attribution.cam import CamMethod


class EigenCam(CamMethod):
    name = "eigencam"
    title = "Eigen-CAM"
    paper = "https://arxiv.org/abs/2008.00299"
    uses_gradients = False

    def combine(self, activations, gradients, params):
        n, c = activations.shape[:2]
        positions = activations.reshape(n, c, -1).transpose(1, 2).float()  # (N, hw, C)
        centred = positions - positions.mean(dim=1, keepdim=True)
        _, _, vh = torch.linalg.svd(centred, full_matrices=False)
        projection = (centred @ vh[:, 0, :, None])[..., 0]  # (N, hw)
        strength = positions.norm(dim=2)
        strength = strength - strength.mean(dim=1, keepdim=True)
        sign = torch.sign((projection * strength).sum(dim=1))
        projection = projection * torch.where(sign == 0, 1.0, sign)[:, None]
        return projection.reshape(n, *activations.shape[2:]).relu()


register(EigenCam())
