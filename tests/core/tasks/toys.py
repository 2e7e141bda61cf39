"""Tiny dense models whose outputs can be computed by hand: a detector with fixed boxes
whose scores follow the pixels inside them, and a 1×1-convolution segmenter."""

from __future__ import annotations

import torch
from torch import nn

from workbench.core.models.registry import wrap_model

SIZE = (32, 48)  # (h, w): not square, so the axes cannot be swapped unnoticed
BOXES = torch.tensor([[4.0, 4.0, 20.0, 16.0], [24.0, 8.0, 44.0, 28.0], [26.0, 10.0, 44.0, 28.0]])
LABELS = torch.tensor([0, 1, 2])
CLASSES = ["disc", "square", "ring"]


class ToyDetector(nn.Module):
    """Three fixed boxes; box ``i``'s score is ``sigmoid(4 · (mean of feature channel
    label_i over the box) − 1)`` with features from one 3×3 convolution."""

    def __init__(self):
        super().__init__()
        self.features = nn.Conv2d(3, 3, 3, padding=1)
        with torch.no_grad():
            self.features.weight.copy_(torch.eye(3)[:, :, None, None].expand(-1, -1, 3, 3) / 9)
            self.features.bias.zero_()

    def forward(self, x):
        features = self.features(x)
        out = []
        for image in features:
            scores = torch.stack([
                torch.sigmoid(4 * image[int(c), int(b[1]):int(b[3]), int(b[0]):int(b[2])].mean()
                              - 1) for b, c in zip(BOXES, LABELS, strict=True)])
            out.append({"boxes": BOXES.to(x.device), "labels": LABELS.to(x.device),
                        "scores": scores})
        return out


class ToySegmenter(nn.Module):
    """Per-pixel logits ``(N, 3, H, W)`` from a 3×3 then a 1×1 convolution."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Conv2d(3, 8, 3, padding=1)
        self.classifier = nn.Conv2d(8, 3, 1)

    def forward(self, x):
        return {"out": self.classifier(torch.relu(self.features(x)))}


def toy_detector():
    prep = {"mean": (0, 0, 0), "std": (1, 1, 1), "input_size": SIZE, "task": "detection",
            "cam_layer": "features", "extras": {"crop_mode": "squash"}}
    return wrap_model(ToyDetector(), prep, CLASSES, "toy_detector", "test", "image",
                      torch.device("cpu"))


def toy_segmenter():
    prep = {"mean": (0, 0, 0), "std": (1, 1, 1), "input_size": SIZE, "task": "segmentation",
            "cam_layer": "features", "output": "out", "extras": {"crop_mode": "squash"}}
    return wrap_model(ToySegmenter(), prep, CLASSES, "toy_segmenter", "test", "image",
                      torch.device("cpu"))
