"""``digits_detector``: a tiny CenterNet for synthetic scenes of scikit-learn digits.

CenterNet — Zhou, Wang & Krähenbühl, "Objects as Points" (2019),
https://arxiv.org/abs/1904.07850 — predicts, on a stride-4 grid, one heat map
per class whose peaks are object centres, plus each object's box size and the
sub-cell offset of its centre.  Peaks are read off by a 3×3 max-pool (no NMS).

The network is fully convolutional: a four-stage backbone (strides 2, 4, 8, 16)
and a small top-down neck that brings stages 3 and 4 back to stride 4, so the
receptive field (~150 px) covers a 64 px digit and its neighbours but not the
whole world; ``DEFAULT_CAM_LAYER`` is the neck's output, the last spatial
feature before the heads.

Contract: ``forward(x)`` takes normalized ``(N, 1, H, W)`` input (``H``, ``W``
multiples of 16 work best).  In eval mode it returns a list of N dicts in
torchvision's detection format (``boxes`` xyxy in input pixels, ``labels``
int64 0–9, ``scores`` in [0, 1]), at most ``MAX_DETECTIONS`` per image with
scores ≥ ``SCORE_FLOOR``; the scores are heat-map values gathered by index and
stay differentiable with respect to the input.  In train mode it returns the
raw head maps (``heatmap`` logits, ``size``, ``offset``).
"""

from __future__ import annotations

import sys

import torch
from torch import nn
from torch.nn import functional as F

from workbench.core.models import scene_weights

IN_CHANNELS = 1
MEAN = (0.1,)
STD = (0.25,)
INPUT_SIZE = (128, 128)
NUM_CLASSES = 10
STRIDE = 4
NECK_WIDTH = 48
MAX_DETECTIONS = 50
SCORE_FLOOR = 0.05
DEFAULT_CAM_LAYER = "neck.out"
LABELS = [str(d) for d in range(10)]
WEIGHTS_NAME = "digits_detector.pt"


def conv_bn(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """3×3 convolution, BatchNorm, ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class Backbone(nn.Module):
    """Four stages at strides 2, 4, 8, 16; returns the outputs of stages 2–4."""

    def __init__(self, widths=(16, 32, 64, 96)):
        super().__init__()
        w1, w2, w3, w4 = widths
        self.stage1 = conv_bn(IN_CHANNELS, w1, 2)
        self.stage2 = nn.Sequential(conv_bn(w1, w2, 2), conv_bn(w2, w2))
        self.stage3 = nn.Sequential(conv_bn(w2, w3, 2), conv_bn(w3, w3))
        self.stage4 = nn.Sequential(conv_bn(w3, w4, 2), conv_bn(w4, w4))

    def forward(self, x):
        c2 = self.stage2(self.stage1(x))
        c3 = self.stage3(c2)
        return c2, c3, self.stage4(c3)


class Neck(nn.Module):
    """Top-down path: stage 4 → stride 8 (+ stage 3) → stride 4 (+ stage 2)."""

    def __init__(self, widths=(32, 64, 96), width: int = NECK_WIDTH):
        super().__init__()
        self.lateral2 = nn.Conv2d(widths[0], width, 1)
        self.lateral3 = nn.Conv2d(widths[1], width, 1)
        self.lateral4 = nn.Conv2d(widths[2], width, 1)
        self.smooth3 = conv_bn(width, width)
        self.out = conv_bn(width, width)

    def forward(self, c2, c3, c4):
        p3 = self.lateral3(c3) + F.interpolate(self.lateral4(c4), size=c3.shape[-2:],
                                               mode="bilinear", align_corners=False)
        p3 = self.smooth3(p3)
        p2 = self.lateral2(c2) + F.interpolate(p3, size=c2.shape[-2:], mode="bilinear",
                                               align_corners=False)
        return self.out(p2)


def _branch(width: int, out: int, bias: float = 0.0) -> nn.Sequential:
    branch = nn.Sequential(nn.Conv2d(width, 32, 1), nn.ReLU(inplace=True), nn.Conv2d(32, out, 1))
    nn.init.constant_(branch[-1].bias, bias)
    return branch


class Head(nn.Module):
    """Per-class centre heat map (logits), box size (log px) and centre offset (cells)."""

    def __init__(self, width: int = NECK_WIDTH):
        super().__init__()
        self.heatmap = _branch(width, NUM_CLASSES, bias=-2.19)  # prior 0.1, as in CenterNet
        self.size = _branch(width, 2, bias=3.4)  # log of ~30 px
        self.offset = _branch(width, 2)

    def forward(self, features):
        return {"heatmap": self.heatmap(features), "size": self.size(features),
                "offset": self.offset(features)}


class DigitsDetector(nn.Module):
    """CenterNet-style detector of digits 0–9 (see the module docstring for the contract)."""

    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.neck = Neck()
        self.head = Head()

    def forward(self, x):
        maps = self.head(self.neck(*self.backbone(x)))
        if self.training:
            return maps
        return decode(maps, x.shape[-2:])


def decode(maps: dict, input_hw, max_detections: int = MAX_DETECTIONS,
           score_floor: float = SCORE_FLOOR) -> list[dict]:
    """Head maps → one torchvision-style dict per image (peaks of the sigmoid heat map)."""
    heat = torch.sigmoid(maps["heatmap"])
    n, classes, gh, gw = heat.shape
    sy, sx = input_hw[0] / gh, input_hw[1] / gw
    with torch.no_grad():
        peaks = heat == F.max_pool2d(heat, 3, 1, 1)
        ranked = torch.where(peaks, heat, torch.zeros_like(heat)).flatten(1)
        top = ranked.topk(min(max_detections, ranked.shape[1]), dim=1)
    results = []
    for i in range(n):
        keep = top.indices[i][top.values[i] >= score_floor]
        labels, cell = keep // (gh * gw), keep % (gh * gw)
        cy, cx = cell // gw, cell % gw
        scores = heat[i].flatten()[keep]
        offset = maps["offset"][i][:, cy, cx]
        size = maps["size"][i][:, cy, cx].clamp(max=6.0).exp()
        x = (cx.to(heat.dtype) + offset[0]) * sx
        y = (cy.to(heat.dtype) + offset[1]) * sy
        boxes = torch.stack([x - size[0] / 2, y - size[1] / 2, x + size[0] / 2,
                             y + size[1] / 2], dim=1)
        boxes = torch.stack([boxes[:, 0].clamp(0, input_hw[1]), boxes[:, 1].clamp(0, input_hw[0]),
                             boxes[:, 2].clamp(0, input_hw[1]), boxes[:, 3].clamp(0, input_hw[0])],
                            dim=1)
        results.append({"boxes": boxes, "labels": labels.to(torch.int64), "scores": scores})
    return results


def weights_path():
    return scene_weights.weights_path(sys.modules[__name__])


def load_trained(path=None) -> DigitsDetector:
    """The shipped detector in eval mode; raises ModelLoadError if the weights are missing."""
    return scene_weights.load_trained(sys.modules[__name__], DigitsDetector, "detector", path)


def build_pretrained():
    """``(net_in_eval_mode, prep, labels, source)`` like ``build_digits_lenet``."""
    return scene_weights.pretrained(sys.modules[__name__], load_trained(), "detector", "map50",
                                    "CenterNet-style detector")
