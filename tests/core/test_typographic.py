"""The typographic attack (Goh et al. 2021): a word written into the pixels, the rest of the
picture untouched, and the prediction of the clean and the written picture side by side."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from workbench.core.adversarial.typographic import (
    TextSpec,
    text_box,
    typographic_effect,
    write_text,
)
from workbench.core.models.registry import wrap_model
from workbench.errors import InputError


def grey(h=96, w=128):
    return np.full((h, w, 3), 0.5, dtype=np.float32)


def test_text_is_drawn_at_its_position_in_its_colour():
    spec = TextSpec("iPod", position=(40, 30), size=20, color=(1.0, 0.0, 0.0), background=None)
    out = write_text(grey(), spec)
    changed = np.abs(out - 0.5).max(axis=2) > 1e-6
    ys, xs = np.nonzero(changed)
    assert changed.any() and abs(xs.mean() - 40) < 6 and abs(ys.mean() - 30) < 6
    left, top, right, bottom = text_box(spec)
    assert left <= xs.min() and xs.max() <= right and top <= ys.min() and ys.max() <= bottom
    inked = out[changed]
    assert (inked[:, 0] >= 0.5 - 1e-6).all() and (inked[:, 1] <= 0.5 + 1e-6).all()  # red ink
    assert np.allclose(out[changed.max(axis=1) == 0], 0.5)  # rows without text: untouched
    assert out.dtype == np.float32 and out.shape == (96, 128, 3)


def test_note_background_and_size():
    small = TextSpec("apple", (64, 48), size=12)
    big = TextSpec("apple", (64, 48), size=30)
    for spec in (small, big):
        left, top, right, bottom = text_box(spec)
        out = write_text(grey(), spec)
        corner = out[top + 1, left + 1]
        assert np.allclose(corner, 1.0)  # the white note
        assert np.allclose(out[:max(0, top - 1)], 0.5)
    assert (text_box(big)[2] - text_box(big)[0]) > 2 * (text_box(small)[2] - text_box(small)[0])


def test_moving_the_text_moves_the_ink():
    a = write_text(grey(), TextSpec("cat", (30, 30), 16, background=None))
    b = write_text(grey(), TextSpec("cat", (90, 60), 16, background=None))
    np.testing.assert_allclose(a[30 - 12:30 + 12, 30 - 20:30 + 20],
                               b[60 - 12:60 + 12, 90 - 20:90 + 20], atol=1e-6)


def test_partly_outside_and_empty_text():
    out = write_text(grey(), TextSpec("edge", (0, 0), 24))
    assert out.shape == (96, 128, 3) and np.isfinite(out).all()
    assert np.array_equal(write_text(grey(), TextSpec("  ", (10, 10))), grey())
    with pytest.raises(InputError, match="colour"):
        write_text(grey(), TextSpec("x", (10, 10), color=(2, 0, 0)))
    with pytest.raises(InputError, match="font size"):
        write_text(grey(), TextSpec("x", (10, 10), size=0))


class Brightness(nn.Module):
    """Two classes: dark vs bright."""

    def forward(self, x):
        mean = x.mean(dim=(1, 2, 3))
        return torch.stack([-10 * (mean - 0.5), 10 * (mean - 0.5)], dim=1)


def test_effect_on_a_model():
    model = wrap_model(Brightness(), {"mean": (0, 0, 0), "std": (1, 1, 1),
                                      "input_size": (32, 32)}, ["dark", "bright"],
                       "brightness", "test", "image", torch.device("cpu"))
    image = np.full((64, 64, 3), 0.45, dtype=np.float32)
    result = typographic_effect(model, image, TextSpec("BRIGHT", (32, 32), 16,
                                                       color=(1, 1, 1),
                                                       background=(1, 1, 1)), k=2)
    assert result.before[0].label == "dark" and result.after[0].label == "bright"
    assert result.probs_after[1] > result.probs_before[1]
    assert result.written.shape == image.shape
