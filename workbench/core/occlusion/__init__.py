"""Occlusion: hide part of the image and watch the prediction.

Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks",
ECCV 2014, https://arxiv.org/abs/1311.2901 (Section 4.2).  ``fills`` makes
what replaces hidden pixels, ``sliding`` the batched window sweep, ``paint``
the painted-mask prediction, ``superpixels`` the SLIC regions to click.
"""

from workbench.core.occlusion.fills import FILL_MODES, apply_fill, fill_image, parse_fill
from workbench.core.occlusion.paint import MaskedPrediction, predict_masked
from workbench.core.occlusion.sliding import OcclusionParams, OcclusionResult, occlusion_map

__all__ = [
    "FILL_MODES",
    "MaskedPrediction",
    "OcclusionParams",
    "OcclusionResult",
    "apply_fill",
    "fill_image",
    "occlusion_map",
    "parse_fill",
    "predict_masked",
]
