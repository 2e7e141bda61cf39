"""Combining per-frame probabilities over time (numpy only).

Each aggregation takes ``probs`` ``(T, C)`` (the sampled frames, in time order) and
returns the smoothed per-frame probabilities ``(T, C)`` and the video-level ``(C,)``:

* ``mean`` — every frame's prediction averaged (late fusion by averaging); per frame,
  the running mean up to that frame;
* ``window:N`` — a centred sliding mean over N sampled frames (shorter at the ends);
* ``ema:ALPHA`` — exponential moving average ``s_t = α·p_t + (1 − α)·s_{t−1}``;
* ``vote`` — each frame votes for its top-1; the shares of the votes.
"""

from __future__ import annotations

import numpy as np

from workbench.errors import InputError

AGGREGATIONS = ("mean", "window", "ema", "vote")
DEFAULT_WINDOW = 5
DEFAULT_ALPHA = 0.3


def parse_aggregation(text: str) -> tuple[str, float]:
    """``"mean"``, ``"window:5"``, ``"ema:0.3"``, ``"vote"`` → ``(name, parameter)``."""
    name, _, value = text.strip().lower().partition(":")
    if name not in AGGREGATIONS:
        raise InputError(f"aggregation must be one of mean, window:N, ema:ALPHA, vote — "
                         f"not '{text}'")
    if name == "window":
        size = int(value) if value.strip().isdigit() else DEFAULT_WINDOW if not value else -1
        if size < 1:
            raise InputError(f"window:N needs a whole number of frames N ≥ 1, not '{value}'")
        return name, float(size)
    if name == "ema":
        try:
            alpha = float(value) if value else DEFAULT_ALPHA
        except ValueError:
            alpha = -1.0
        if not 0.0 < alpha <= 1.0:
            raise InputError(f"ema:ALPHA needs 0 < ALPHA ≤ 1, not '{value}'")
        return name, alpha
    return name, 0.0


def aggregate(probs: np.ndarray, name: str = "mean", parameter: float = 0.0):
    """``(smoothed (T, C), video (C,))`` for aggregation ``name``."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] == 0:
        raise InputError("no frames to aggregate")
    if name == "mean":
        running = np.cumsum(probs, axis=0) / np.arange(1, len(probs) + 1)[:, None]
        return running, probs.mean(axis=0)
    if name == "window":
        smoothed = _centred_mean(probs, int(parameter) or DEFAULT_WINDOW)
        return smoothed, smoothed.mean(axis=0)
    if name == "ema":
        alpha = parameter or DEFAULT_ALPHA
        smoothed = np.empty_like(probs)
        smoothed[0] = probs[0]
        for t in range(1, len(probs)):
            smoothed[t] = alpha * probs[t] + (1.0 - alpha) * smoothed[t - 1]
        return smoothed, smoothed[-1]
    if name == "vote":
        votes = np.zeros_like(probs)
        votes[np.arange(len(probs)), probs.argmax(axis=1)] = 1.0
        running = np.cumsum(votes, axis=0) / np.arange(1, len(probs) + 1)[:, None]
        return running, votes.mean(axis=0)
    raise InputError(f"unknown aggregation '{name}'")


def _centred_mean(probs: np.ndarray, size: int) -> np.ndarray:
    before, after = (size - 1) // 2, size // 2
    padded = np.cumsum(np.vstack([np.zeros((1, probs.shape[1])), probs]), axis=0)
    t = np.arange(len(probs))
    low, high = np.clip(t - before, 0, len(probs)), np.clip(t + after + 1, 0, len(probs))
    return (padded[high] - padded[low]) / (high - low)[:, None]


def mean_formula(probs: np.ndarray, index: int, label: str, limit: int = 8) -> str:
    """The lecture's formula with the numbers filled in: ``p(label in video) = (a + b + …)
    / n = m %`` (long sums are shortened in the middle)."""
    values = np.asarray(probs, dtype=np.float64)[:, index] * 100.0
    terms = [f"{v:.1f}" for v in values]
    if len(terms) > limit:
        terms = [*terms[: limit // 2], "…", *terms[-(limit // 2):]]
    return (f"p({label} in video) = ({' + '.join(terms)}) / {len(values)} = "
            f"{values.mean():.1f} %")
