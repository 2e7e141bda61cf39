"""Feature visualization by optimization (Olah et al., Distill 2017,
https://distill.pub/2017/feature-visualization/): objectives, parameterizations,
transformation robustness and the optimization loop as a generator."""

from workbench.core.featureviz.objectives import (
    Channel,
    ClassLogit,
    ClassProbability,
    Diversity,
    LayerDream,
    Neuron,
    Objective,
)
from workbench.core.featureviz.optimize import (
    FeatureVizConfig,
    Snapshot,
    evaluate,
    run_to_end,
    visualize,
)

__all__ = [
    "Channel",
    "ClassLogit",
    "ClassProbability",
    "Diversity",
    "FeatureVizConfig",
    "LayerDream",
    "Neuron",
    "Objective",
    "Snapshot",
    "evaluate",
    "run_to_end",
    "visualize",
]
