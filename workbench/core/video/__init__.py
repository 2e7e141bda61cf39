"""An image model on a video: the same model on every sampled frame, combined over time.

The lecture's simplest video model: classify each frame and average,
"p(horse in video) = (97.9 + 95.6 + 98.9 + 97.6) / 4 = 97.5 %".
:func:`frame_predictions` and :func:`frame_maps` run batches of frames decoded ahead on
their own thread (``workbench.io.video``); :mod:`workbench.core.video.aggregate` holds
the ways of combining them.
"""

from workbench.core.video.aggregate import (
    AGGREGATIONS,
    aggregate,
    mean_formula,
    parse_aggregation,
)
from workbench.core.video.frames import (
    FrameMaps,
    FramePredictions,
    frame_maps,
    frame_predictions,
    sampled_frames,
)

__all__ = ["AGGREGATIONS", "FrameMaps", "FramePredictions", "aggregate", "frame_maps",
           "frame_predictions", "mean_formula", "parse_aggregation", "sampled_frames"]
