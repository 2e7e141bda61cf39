"""SLIC superpixels to click and occlude whole regions.

Achanta et al., "SLIC Superpixels Compared to State-of-the-Art Superpixel
Methods", IEEE TPAMI 2012, https://doi.org/10.1109/TPAMI.2012.120 (scikit-image).
"""

from __future__ import annotations

import numpy as np


def superpixels(image: np.ndarray, segments: int = 60, compactness: float = 10.0) -> np.ndarray:
    """``(H, W)`` int labels of SLIC superpixels for an ``(H, W, 3)`` image in [0, 1]."""
    from skimage.segmentation import slic

    return slic(image.astype(np.float64), n_segments=segments, compactness=compactness,
                start_label=0, channel_axis=-1)
