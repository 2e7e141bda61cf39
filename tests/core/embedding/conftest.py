"""Shared fixtures: the digits model with its features, a tiny image model, image folders."""

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from workbench.core.models.registry import wrap_model


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets its own feature cache folder."""
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "feature-cache"))


@pytest.fixture(scope="session")
def digits_model():
    from workbench.core.models import load_model

    return load_model("digits_lenet")


@pytest.fixture(scope="session")
def digits_features(digits_model):
    from workbench.core.embedding import digits_dataset, extract_features

    return extract_features(digits_model, digits_dataset(), "relu4")


class Tokens(nn.Module):
    """``(N, C, 2, 2)`` → ViT-like tokens ``(N, 1 + 4, C)`` with a class token in front."""

    def forward(self, x):
        patches = x.flatten(2).transpose(1, 2)
        return torch.cat([patches.amax(dim=1, keepdim=True), patches], dim=1)


class TinyNet(nn.Module):
    """conv (4-D) → pool to 2×2 → tokens (3-D) → fc (2-D)."""

    def __init__(self):
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(0)
            self.conv = nn.Conv2d(3, 6, 3, padding=1)
            self.fc = nn.Linear(5 * 6, 3)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.tokens = Tokens()

    def forward(self, x):
        return self.fc(self.tokens(self.pool(self.relu(self.conv(x)))).flatten(1))


@pytest.fixture(scope="session")
def tiny_model():
    prep = {"mean": (0.5,) * 3, "std": (0.25,) * 3, "input_size": (16, 16)}
    return wrap_model(TinyNet(), prep, ["a", "b", "c"], "tiny", "test", "image",
                      torch.device("cpu"))


def write_image(path, seed: int, size=(20, 24)):
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def labelled_folder(tmp_path):
    """cats/ (2 images), dogs/ (1 image + a damaged PNG), a loose image and a text file."""
    root = tmp_path / "pets"
    write_image(root / "cats" / "a.png", 1)
    write_image(root / "cats" / "nested" / "b.jpg", 2)
    write_image(root / "dogs" / "c.png", 3)
    (root / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not a png")
    (root / "dogs" / "notes.txt").write_text("not an image")
    write_image(root / "loose.png", 4)
    return root
