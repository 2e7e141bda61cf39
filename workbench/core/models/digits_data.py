"""scikit-learn's bundled 8×8 digits as pixel images, with the fixed train / held-out split."""

from __future__ import annotations

import numpy as np

SPLIT_SEED = 0
HELD_OUT_FRACTION = 0.25


def digits_images() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits as ``(N, 8, 8)`` float32 in [0, 1] (ink bright) and their labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.images / 16.0).astype(np.float32), digits.target.astype(np.int64)


def digits_split():
    """``(train_x, held_out_x, train_y, held_out_y)``, stratified, with a fixed seed."""
    from sklearn.model_selection import train_test_split

    images, labels = digits_images()
    return train_test_split(
        images, labels, test_size=HELD_OUT_FRACTION, random_state=SPLIT_SEED, stratify=labels
    )


def digit_as_rgb(image8: np.ndarray) -> np.ndarray:
    """An 8×8 digit as an ``(8, 8, 3)`` RGB pixel image (the app's image contract)."""
    return np.repeat(image8[..., None], 3, axis=2).astype(np.float32)
