"""A corpus of hostile and unusual inputs, generated here (never downloaded).

``bad_images`` must each fail with a one-line message naming the file;
``odd_images`` must each open; ``bad_checkpoints`` must each fail to load
(and the evil pickle must never run).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from workbench.io.images import MAX_PIXELS


def _photo(w=64, h=48) -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray((rng.random((h, w, 3)) * 255).astype(np.uint8))


def _truncated(folder: Path, fmt: str, ext: str) -> Path:
    buffer = io.BytesIO()
    _photo().save(buffer, format=fmt)
    path = folder / f"truncated.{ext}"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return path


def bad_images(folder: Path) -> list[tuple[Path, str]]:
    """``(path, fragment of the expected message)``."""
    folder.mkdir(parents=True, exist_ok=True)
    empty = folder / "empty.png"
    empty.write_bytes(b"")
    text = folder / "notes.png"
    text.write_text("this is not an image\n")
    side = int((MAX_PIXELS * 1.2) ** 0.5)
    bomb = folder / "bomb.png"
    Image.new("1", (side, side)).save(bomb)
    return [
        (empty, "empty"),
        (text, "not an image"),
        (_truncated(folder, "PNG", "png"), "truncated"),
        (_truncated(folder, "JPEG", "jpg"), "truncated"),
        (bomb, "too large"),
        (folder / "missing.png", "not found"),
    ]


def odd_images(folder: Path) -> list[Path]:
    """Unusual files that must open."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []

    def save(img, name, **kwargs):
        path = folder / name
        img.save(path, **kwargs)
        paths.append(path)

    save(_photo(), "really_a_png.jpg", format="PNG")
    save(Image.new("RGB", (1, 1), (200, 10, 10)), "one_pixel.png")
    save(Image.new("RGB", (40000, 1)), "one_by_forty_thousand.png")
    save(Image.fromarray(np.full((20, 30), 40000, np.uint16)), "sixteen_bit.png")
    palette = Image.new("P", (8, 8), 0)
    palette.putpalette([255, 0, 0] + [0] * 765)
    save(palette, "palette_transparent.png", transparency=0)
    save(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "cmyk.jpg")
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:])
    paths.append(folder / "animated.gif")
    exif = Image.Exif()
    exif[0x0112] = 6
    save(_photo(40, 20), "rotated.jpg", exif=exif.tobytes())
    save(_photo(), "l" + "o" * 200 + "ng.png")
    raw = os.fsencode(folder) + b"/latin1-\xe9t\xe9.png"
    with open(raw, "wb") as handle:
        _photo().save(handle, format="PNG")
    paths.append(Path(os.fsdecode(raw)))
    return paths


class WrongShape(nn.Module):
    def forward(self, x):
        return x.mean(dim=1)


class MakesNaN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)

    def forward(self, x):
        return self.fc(x.mean(dim=(2, 3))) * float("nan")


class Marker:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def bad_checkpoints(folder: Path) -> list[tuple[Path, str, dict]]:
    """``(path, fragment, extra CLI/loader options)``; loading each must fail."""
    from torchvision.models import resnet18

    folder.mkdir(parents=True, exist_ok=True)
    random_bytes = folder / "random.pt"
    random_bytes.write_bytes(np.random.default_rng(0).bytes(4096))
    wrong_keys = folder / "wrong_keys.pth"
    torch.save({"layer.weight": torch.zeros(3, 3)}, wrong_keys)
    wrong_shapes = folder / "wrong_shapes.pth"
    state = resnet18(num_classes=5).state_dict()
    state["conv1.weight"] = torch.zeros(64, 3, 5, 5)
    torch.save(state, wrong_shapes)
    shape = folder / "wrong_shape.ts"
    torch.jit.script(WrongShape()).save(str(shape))
    evil = folder / "evil.pt"
    torch.save({"payload": Marker(str(folder / "pwned"))}, evil)
    return [
        (random_bytes, "not a PyTorch checkpoint", {}),
        (wrong_keys, "missing keys", {"arch": "resnet18"}),
        (wrong_shapes, "conv1.weight is (64, 3, 5, 5)", {"arch": "resnet18"}),
        (shape, "must return", {"input_size": 32}),
        (evil, "run code", {}),
    ]


def nan_model(folder: Path) -> Path:
    path = folder / "nan.ts"
    torch.jit.script(MakesNaN()).save(str(path))
    return path
