"""Attribution methods (CAMs, gradient maps, attention rollout) and faithfulness scores.

Importing this package registers every method in :data:`METHODS` by its CLI
name.  ``attribute(model, x, "gradcam", layer=..., targets=...)`` is the one
entry point; each method lives in its own small file.
"""

from workbench.core.attribution import (  # noqa: F401 - registration side effects
    attention_rollout,
    eigencam,
    gradcam,
    gradcam_pp,
    guided_backprop,
    guided_gradcam,
    hirescam,
    integrated_gradients,
    layercam,
    saliency,
    scorecam,
    smoothgrad,
    xgradcam,
)
from workbench.core.attribution.base import (
    METHODS,
    AttributionResult,
    Method,
    get_method,
    normalize_maps,
)
from workbench.core.attribution.faithfulness import (
    FaithfulnessParams,
    FaithfulnessScore,
    faithfulness,
)

METHOD_ORDER = ("gradcam", "gradcam++", "xgradcam", "layercam", "hirescam", "scorecam",
                "eigencam", "saliency", "smoothgrad", "integrated-gradients", "guided-backprop",
                "guided-gradcam", "attention-rollout")


def attribute(model, x, method: str, layer=None, targets=None, params=None, ctx=None):
    """Run the registered ``method`` on ``x`` (see :class:`Method`)."""
    return get_method(method)(model, x, targets=targets, layer=layer, params=params, ctx=ctx)


__all__ = [
    "METHODS",
    "METHOD_ORDER",
    "AttributionResult",
    "FaithfulnessParams",
    "FaithfulnessScore",
    "Method",
    "attribute",
    "faithfulness",
    "get_method",
    "normalize_maps",
]
