"""Eigen-CAM: the activations projected on their first principal direction (no gradients).

Muhammad & Yeasin, "Eigen-CAM: Class Activation Map using Principal
Components", IJCNN 2020, https://arxiv.org/abs/2008.00299
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
        _, _, vh = torch.linalg.svd(positions, full_matrices=False)
        projection = positions @ vh[:, 0, :, None]  # (N, hw, 1)
        # A singular vector's sign is arbitrary: orient it with the mean activation.
        sign = torch.sign((projection[..., 0] * positions.mean(dim=2)).sum(dim=1))
        projection = projection[..., 0] * torch.where(sign == 0, 1.0, sign)[:, None]
        return projection.reshape(n, *activations.shape[2:]).relu()


register(EigenCam())
