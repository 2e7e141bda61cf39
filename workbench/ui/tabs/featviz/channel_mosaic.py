"""All channels of a layer on the current image as one mosaic, with its colour bar; each
tile normalized on its own (shape) or all on one scale (raw activations); click a tile to
pick that channel."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.io.overlay import RAW, ColorScale
from workbench.ui.widgets.image_view import ImageView

GAP = 1
BACKGROUND = 0.15
PER_CHANNEL, SHARED = "per channel", "shared"


def mosaic(activations: np.ndarray, shared: bool = False) -> tuple[np.ndarray, int, int]:
    """``(C, h, w)`` → a grey mosaic image, its number of columns and the tile pitch.

    Tiles are min–max normalized each on its own, or (``shared``) all on the layer's range.
    """
    channels, h, w = activations.shape
    columns = math.ceil(math.sqrt(channels))
    rows = math.ceil(channels / columns)
    pitch_y, pitch_x = h + GAP, w + GAP
    canvas = np.full((rows * pitch_y, columns * pitch_x), BACKGROUND, np.float32)
    layer_low, layer_high = float(activations.min()), float(activations.max())
    for index, values in enumerate(activations):
        low, high = (layer_low, layer_high) if shared else (float(values.min()),
                                                            float(values.max()))
        tile = (values - low) / (high - low) if high > low else np.zeros_like(values)
        r, c = divmod(index, columns)
        canvas[r * pitch_y : r * pitch_y + h, c * pitch_x : c * pitch_x + w] = tile
    return np.repeat(canvas[..., None], 3, axis=2), columns, pitch_x


class ChannelMosaic(QWidget):
    """Emits ``channel_clicked(index)`` when a tile is clicked."""

    channel_clicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = ImageView(title="click a channel")
        self.shape = None
        self.activations: np.ndarray | None = None
        self.layer = ""
        self.scaling = QComboBox()
        self.scaling.addItem("each channel 0–1 (min–max)", PER_CHANNEL)
        self.scaling.addItem("one scale for the layer (raw)", SHARED)
        self.scaling.setToolTip("per channel: the pattern of each channel; shared: how strong "
                                "each channel is, compared with the others")
        self.scaling.currentIndexChanged.connect(lambda _i: self._draw())
        row = QHBoxLayout()
        row.addWidget(QLabel("Tiles"))
        row.addWidget(self.scaling)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        self.view.canvas.scene().sigMouseClicked.connect(self._clicked)

    @property
    def image_item(self):
        return self.view.image_item

    def show_channels(self, activations: np.ndarray, layer: str = "") -> None:
        self.activations, self.layer = activations, layer
        self._draw()

    def _draw(self) -> None:
        activations = self.activations
        if activations is None:
            return
        shared = self.scaling.currentData() == SHARED
        picture, columns, _ = mosaic(activations, shared)
        self.shape = (activations.shape[0], activations.shape[1] + GAP,
                      activations.shape[2] + GAP, columns)
        self.view.set_image(picture)
        units = f"activation of {self.layer}" if self.layer else "activation"
        low, high = float(activations.min()), float(activations.max())
        self.view.set_scale(ColorScale("grey", low, high, units, RAW) if shared else
                            ColorScale("grey", 0.0, 1.0, "each channel normalized 0–1 "
                                       "(its own min–max)", RAW))
        self.view.set_title(f"{activations.shape[0]} channels · click one")

    def channel_at(self, x: float, y: float) -> int | None:
        if self.shape is None:
            return None
        count, pitch_y, pitch_x, columns = self.shape
        row, column = int(y // pitch_y), int(x // pitch_x)
        index = row * columns + column
        return index if 0 <= column < columns and 0 <= index < count else None

    def _clicked(self, event) -> None:
        point = self.view.image_item.mapFromScene(event.scenePos())
        index = self.channel_at(point.x(), point.y())
        if index is not None:
            self.channel_clicked.emit(index)
