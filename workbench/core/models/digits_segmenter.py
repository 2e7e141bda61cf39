"""``digits_segmenter``: a small U-Net for synthetic scenes of scikit-learn digits.

U-Net — Ronneberger, Fischer & Brox (2015), https://arxiv.org/abs/1505.04597 —
in a light form: an encoder at strides 2, 4 and 8, a decoder that upsamples
bilinearly and adds the skips (FPN-style, cheaper than concatenation), a 1×1
classifier at stride 2 and a final bilinear upsampling of the logits.

``forward(x)`` takes normalized ``(N, 1, H, W)`` input and returns logits
``(N, 11, H, W)`` at the input resolution: class 0 is background, class d + 1
is digit d (``LABELS``).  ``DEFAULT_CAM_LAYER`` is the last decoder block, the
last spatial feature before the 1×1 classifier.
"""

from __future__ import annotations

import sys

from torch import nn
from torch.nn import functional as F

from workbench.core.models import scene_weights

IN_CHANNELS = 1
MEAN = (0.1,)
STD = (0.25,)
INPUT_SIZE = (128, 128)
NUM_CLASSES = 11
LABELS = ["background"] + [str(d) for d in range(10)]
DEFAULT_CAM_LAYER = "decoder.block1"  # stride 2, 16 channels
WEIGHTS_NAME = "digits_segmenter.pt"


def conv_bn(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """3×3 convolution, BatchNorm, ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, dilation, dilation, bias=False),
                         nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class Encoder(nn.Module):
    """Stages at strides 2, 4 and 8 (the last with a dilated convolution for context)."""

    def __init__(self, widths=(16, 32, 64)):
        super().__init__()
        w1, w2, w3 = widths
        self.stage1 = nn.Sequential(conv_bn(IN_CHANNELS, w1, 2), conv_bn(w1, w1))
        self.stage2 = nn.Sequential(conv_bn(w1, w2, 2), conv_bn(w2, w2))
        self.stage3 = nn.Sequential(conv_bn(w2, w3, 2), conv_bn(w3, w3), conv_bn(w3, w3, 1, 2))

    def forward(self, x):
        s1 = self.stage1(x)
        s2 = self.stage2(s1)
        return s1, s2, self.stage3(s2)


def _up(x, like):
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)


class Decoder(nn.Module):
    """Bilinear upsampling of the coarser map (1×1-projected) added to the skip, then 3×3."""

    def __init__(self, widths=(16, 32, 64)):
        super().__init__()
        w1, w2, w3 = widths
        self.project3 = nn.Conv2d(w3, w2, 1)
        self.block2 = conv_bn(w2, w2)
        self.project2 = nn.Conv2d(w2, w1, 1)
        self.block1 = conv_bn(w1, w1)

    def forward(self, s1, s2, s3):
        d2 = self.block2(s2 + _up(self.project3(s3), s2))
        return self.block1(s1 + _up(self.project2(d2), s1))


class DigitsSegmenter(nn.Module):
    """Per-pixel classes background / 0–9 for digit scenes."""

    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()
        self.classifier = nn.Conv2d(16, NUM_CLASSES, 1)

    def forward(self, x):
        logits = self.classifier(self.decoder(*self.encoder(x)))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)


def weights_path():
    return scene_weights.weights_path(sys.modules[__name__])


def load_trained(path=None) -> DigitsSegmenter:
    """The shipped segmenter in eval mode; raises ModelLoadError if the weights are missing."""
    return scene_weights.load_trained(sys.modules[__name__], DigitsSegmenter, "segmenter", path)


def build_pretrained():
    """``(net_in_eval_mode, prep, labels, source)`` like ``build_digits_lenet``."""
    return scene_weights.pretrained(sys.modules[__name__], load_trained(), "segmenter", "miou",
                                    "U-Net segmenter")
