"""Model loading: built-ins, torchvision models by name, and user checkpoints.

``load_model(spec)`` accepts ``efficientnet_lite0``, ``digits_lenet``, any
torchvision classification or video model name (pretrained weights; add
``:random`` for random weights), or a path to a checkpoint file.
"""

from __future__ import annotations

from workbench.core.models.loaded import LayerInfo, LoadedModel, PixelModel
from workbench.core.models.registry import (
    ModelListing,
    available_models,
    load_model,
    parse_spec,
)

__all__ = [
    "LayerInfo",
    "LoadedModel",
    "ModelListing",
    "PixelModel",
    "available_models",
    "load_model",
    "parse_spec",
]
