"""All channels of a layer on the current image as one mosaic; click a tile to pick it."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Signal

from workbench.ui.widgets.image_view import ImageView

GAP = 1


def mosaic(activations: np.ndarray) -> tuple[np.ndarray, int, int]:
    """``(C, h, w)`` → a grey mosaic image, its number of columns and the tile pitch."""
    channels, h, w = activations.shape
    columns = math.ceil(math.sqrt(channels))
    rows = math.ceil(channels / columns)
    pitch_y, pitch_x = h + GAP, w + GAP
    canvas = np.full((rows * pitch_y, columns * pitch_x), 0.15, np.float32)
    for index, values in enumerate(activations):
        low, high = float(values.min()), float(values.max())
        tile = (values - low) / (high - low) if high > low else np.zeros_like(values)
        r, c = divmod(index, columns)
        canvas[r * pitch_y : r * pitch_y + h, c * pitch_x : c * pitch_x + w] = tile
    return np.repeat(canvas[..., None], 3, axis=2), columns, pitch_x


class ChannelMosaic(ImageView):
    """Emits ``channel_clicked(index)`` when a tile is clicked."""

    channel_clicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent, title="click a channel")
        self.shape = None
        self.canvas.scene().sigMouseClicked.connect(self._clicked)

    def show_channels(self, activations: np.ndarray) -> None:
        picture, columns, _ = mosaic(activations)
        self.shape = (activations.shape[0], activations.shape[1] + GAP,
                      activations.shape[2] + GAP, columns)
        self.set_image(picture)
        self.set_title(f"{activations.shape[0]} channels · click one")

    def channel_at(self, x: float, y: float) -> int | None:
        if self.shape is None:
            return None
        count, pitch_y, pitch_x, columns = self.shape
        row, column = int(y // pitch_y), int(x // pitch_x)
        index = row * columns + column
        return index if 0 <= column < columns and 0 <= index < count else None

    def _clicked(self, event) -> None:
        point = self.image_item.mapFromScene(event.scenePos())
        index = self.channel_at(point.x(), point.y())
        if index is not None:
            self.channel_clicked.emit(index)
