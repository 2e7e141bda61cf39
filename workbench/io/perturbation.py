"""An adversarial perturbation as a picture: a signed change shown around mid-grey, magnified
so that it is visible, with its colour bar.  The Adversarial tab and the report's adversarial
section draw it with these same functions.  No Qt."""

from __future__ import annotations

import numpy as np

MAX_AMPLIFICATION = 500


def amplification(linf: float) -> int:
    """How much to magnify a perturbation so that its largest change spans the grey range."""
    return int(max(1, min(MAX_AMPLIFICATION, round(0.5 / max(float(linf), 1e-6)))))


def amplify(perturbation: np.ndarray, factor: float) -> np.ndarray:
    """A signed perturbation ``(H, W, 3)`` shown around mid-grey, scaled by ``factor``."""
    return np.clip(0.5 + np.asarray(perturbation) * factor, 0.0, 1.0)


def perturbation_scale(factor: float):
    """The colour bar of the amplified perturbation: mid-grey is no change."""
    from workbench.io.overlay import RAW, ColorScale

    reach = 0.5 / factor * 255.0
    return ColorScale("grey", -reach, reach, "change per channel (/255)", RAW)
