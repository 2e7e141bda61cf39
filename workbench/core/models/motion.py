"""Five small clip models for the motion lesson: five ways to give a network time.

- ``motion_frame``: a per-frame CNN, its class probabilities averaged over time
  (no fusion; the baseline of Karpathy et al., "Large-scale Video Classification with
  Convolutional Neural Networks", CVPR 2014, https://cs.stanford.edu/people/karpathy/deepvideo/).
- ``motion_late``: late fusion — the same per-frame CNN, the frames' feature vectors
  concatenated in time order, then an MLP (Karpathy et al. 2014).
- ``motion_early``: early fusion — the frames stacked on the channel axis, a 2-D CNN
  (Karpathy et al. 2014).
- ``motion_3d``: 3×3×3 convolutions over time and space (C3D: Tran et al., "Learning
  Spatiotemporal Features with 3D Convolutional Networks", ICCV 2015,
  https://arxiv.org/abs/1412.0767).
- ``motion_lstm``: per-frame CNN features, an LSTM over time (Donahue et al., "Long-term
  Recurrent Convolutional Networks", CVPR 2015, https://arxiv.org/abs/1411.4389).

Every model takes normalized ``(N, 1, T, H, W)`` clips and returns ``(N, classes)``
logits.  The per-frame CNN is built from ``Conv3d`` with ``(1, k, k)`` kernels: exactly a
2-D CNN shared by the frames, while every layer's output keeps the batch axis
``(N, C, T, h, w)`` (the app hooks layers).  Trained by
``python -m workbench.core.models.train_motion`` on :mod:`motion_data`'s clips.
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.core.models.motion_data import CANVAS, DIRECTIONS, NUM_FRAMES, SAMPLE_FPS

INPUT_SIZE = CANVAS
FRAME_RATE = SAMPLE_FPS  # frames per second the models expect (one clip frame each)
MEAN, STD = (0.1,), (0.2,)
DIGITS = tuple(str(d) for d in range(10))
TASKS = {"direction": DIRECTIONS, "digit": DIGITS}
TRUNK_WIDTHS = (12, 24, 48)  # per-frame CNN channels
FEATURES = 64  # per-frame feature vector


def run(layers: nn.ModuleDict, x: torch.Tensor) -> torch.Tensor:
    """Apply ``layers`` in order (a ``ModuleDict`` keeps the layer names short)."""
    for layer in layers.values():
        x = layer(x)
    return x


def conv_stack(conv, pool, widths, inputs: int, kernel, pools) -> nn.ModuleDict:
    """``conv → relu → pool`` per width; ``pools`` gives each block's pooling kernel."""
    layers, channels = {}, inputs
    padding = tuple(k // 2 for k in kernel)
    for number, (width, window) in enumerate(zip(widths, pools, strict=True), start=1):
        layers[f"conv{number}"] = conv(channels, width, kernel, padding=padding)
        layers[f"relu{number}"] = nn.ReLU()
        layers[f"pool{number}"] = pool(window)
        channels = width
    return nn.ModuleDict(layers)


class PerFrameFlatten(nn.Module):
    """``(N, C, T, h, w)`` → ``(N, T, C·h·w)``: one flat vector per frame."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2).flatten(2)


class StackFrames(nn.Module):
    """``(N, 1, T, H, W)`` → ``(N, T, H, W)``: the frames become the channels."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1, 2)


class FrameFeatures(nn.Module):
    """The shared per-frame CNN: ``(1, 3, 3)`` convolutions, then a feature vector per
    frame, ``(N, T, FEATURES)``."""

    def __init__(self):
        super().__init__()
        self.trunk = conv_stack(nn.Conv3d, nn.MaxPool3d, TRUNK_WIDTHS, 1, (1, 3, 3),
                                [(1, 2, 2)] * 3)
        side = INPUT_SIZE // 8
        self.frames = PerFrameFlatten()
        self.embed = nn.Linear(TRUNK_WIDTHS[-1] * side * side, FEATURES)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.embed(self.frames(run(self.trunk, x))))


class FrameAverage(nn.Module):
    """Per-frame classifier; output ``log(mean_t softmax(logits_t))``, so its softmax is
    the frames' averaged probability."""

    def __init__(self, classes: int):
        super().__init__()
        self.features = FrameFeatures()
        self.head = nn.Linear(FEATURES, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        per_frame = self.head(self.features(x)).log_softmax(-1)
        return per_frame.logsumexp(1) - torch.log(torch.tensor(float(per_frame.shape[1])))


class LateFusion(nn.Module):
    """Per-frame feature vectors concatenated in time order → MLP."""

    def __init__(self, classes: int, frames: int = NUM_FRAMES):
        super().__init__()
        self.features = FrameFeatures()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(frames * FEATURES, FEATURES)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(FEATURES, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.relu(self.fc1(self.flatten(self.features(x)))))


class EarlyFusion(nn.Module):
    """Frames stacked on the channel axis → 2-D CNN."""

    def __init__(self, classes: int, frames: int = NUM_FRAMES):
        super().__init__()
        self.stack = StackFrames()
        self.convs = conv_stack(nn.Conv2d, nn.MaxPool2d, (24, 48, 64), frames, (3, 3),
                                [2, 2, 2])
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(64 * (INPUT_SIZE // 8) ** 2, FEATURES)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(FEATURES, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.flatten(run(self.convs, self.stack(x)))
        return self.fc2(self.relu(self.fc1(x)))


class C3D(nn.Module):
    """3×3×3 convolutions; the first pooling keeps time (as in C3D)."""

    def __init__(self, classes: int, frames: int = NUM_FRAMES):
        super().__init__()
        self.convs = conv_stack(nn.Conv3d, nn.MaxPool3d, TRUNK_WIDTHS, 1, (3, 3, 3),
                                [(1, 2, 2), 2, 2])
        self.flatten = nn.Flatten()
        positions = (frames // 4) * (INPUT_SIZE // 8) ** 2
        self.fc1 = nn.Linear(TRUNK_WIDTHS[-1] * positions, FEATURES)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(FEATURES, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.relu(self.fc1(self.flatten(run(self.convs, x)))))


class CnnLstm(nn.Module):
    """Per-frame CNN features → LSTM over time → last hidden state → linear."""

    def __init__(self, classes: int):
        super().__init__()
        self.features = FrameFeatures()
        self.lstm = nn.LSTM(FEATURES, FEATURES, batch_first=True)
        self.head = nn.Linear(FEATURES, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.lstm(self.features(x))
        return self.head(outputs[:, -1])


ARCHITECTURES = {"motion_frame": FrameAverage, "motion_late": LateFusion,
                 "motion_early": EarlyFusion, "motion_3d": C3D, "motion_lstm": CnnLstm}
DESCRIPTIONS = {
    "motion_frame": "per-frame CNN, probabilities averaged over the frames (no fusion)",
    "motion_late": "late fusion: per-frame CNN features concatenated in time order → MLP",
    "motion_early": "early fusion: the frames stacked as channels → 2-D CNN",
    "motion_3d": "3-D convolution (C3D-style 3×3×3)",
    "motion_lstm": "CNN + LSTM: per-frame CNN features → LSTM over time",
}
DIGIT_SUFFIX = "_digit"
MODEL_NAMES = tuple(ARCHITECTURES) + tuple(name + DIGIT_SUFFIX for name in ARCHITECTURES)


def parse_name(name: str) -> tuple[str, str]:
    """``motion_3d`` → ``("motion_3d", "direction")``; ``motion_3d_digit`` → ``(…, "digit")``."""
    if name not in MODEL_NAMES:
        raise KeyError(f"no motion model {name!r}; one of {', '.join(MODEL_NAMES)}")
    if name.endswith(DIGIT_SUFFIX):
        return name[: -len(DIGIT_SUFFIX)], "digit"
    return name, "direction"


def build(name: str) -> nn.Module:
    """An untrained network for model ``name`` (architecture and task from the name)."""
    architecture, task = parse_name(name)
    return ARCHITECTURES[architecture](len(TASKS[task]))
