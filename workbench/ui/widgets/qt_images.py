"""numpy ↔ Qt image conversion."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QIcon, QImage, QPixmap


def qimage_from_array(rgb: np.ndarray) -> QImage:
    """``(H, W, 3)`` uint8 → a ``QImage`` that owns its pixels."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = rgb.shape
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def icon_from_array(rgb: np.ndarray) -> QIcon:
    return QIcon(QPixmap.fromImage(qimage_from_array(rgb)))


def array_from_qimage(image: QImage) -> np.ndarray:
    """Any ``QImage`` → ``(H, W, 3)`` float32 in [0, 1] (alpha composited on grey)."""
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    h, w = rgba.height(), rgba.width()
    raw = np.frombuffer(rgba.constBits(), dtype=np.uint8, count=h * rgba.bytesPerLine())
    pixels = raw.reshape(h, rgba.bytesPerLine())[:, : 4 * w].reshape(h, w, 4)
    pixels = pixels.astype(np.float32) / 255.0
    alpha = pixels[..., 3:4]
    return np.ascontiguousarray(pixels[..., :3] * alpha + 0.5 * (1 - alpha))


def png_bytes(pixmap_or_image, caption: str = "") -> bytes:
    """Encode a ``QPixmap`` / ``QImage`` as PNG bytes, with a caption text chunk."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QPixmap

    image = pixmap_or_image.toImage() if isinstance(pixmap_or_image, QPixmap) else pixmap_or_image
    if caption:
        image.setText("Caption", caption)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())
