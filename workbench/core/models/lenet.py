"""A LeNet-5-style CNN for scikit-learn's 8×8 digits, upsampled to 32×32.

LeCun et al., "Gradient-based learning applied to document recognition", 1998,
http://yann.lecun.com/exdb/publis/pdf/lecun-01a.pdf.  Trained by
``python -m workbench.core.models.train_digits``; weights in ``resources/models``.
"""

from __future__ import annotations

from torch import nn

INPUT_SIZE = 32
# Pixels are digit intensity / 16 (ink bright, background dark), grey.
MEAN, STD = (0.5,), (0.5,)


class DigitsLeNet(nn.Module):
    """conv 5×5 → pool → conv 5×5 → pool → three fully connected layers."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, 5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(32 * 5 * 5, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.relu3(self.fc1(self.flatten(x)))
        x = self.relu4(self.fc2(x))
        return self.fc3(x)
