"""The colour bar beside every map: its colours, round values of the range shown, and the
map's units.  It reads a :class:`~workbench.io.overlay.ColorScale` (the same one exports
draw) and follows the theme: text in the palette's colour and the application's font,
so presentation mode enlarges it like everything else."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from workbench.io.colormaps import lookup_table
from workbench.io.overlay import ColorScale

BAR_WIDTH_EM = 0.9
TICK_PX = 4
GAP_PX = 4


class ColorBar(QWidget):
    """Vertical bar; ``compact`` writes only the two ends (grid cells), no title."""

    def __init__(self, parent=None, compact: bool = False):
        super().__init__(parent)
        self.scale: ColorScale | None = None
        self.threshold = 0.0
        self.compact = compact
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.setObjectName("colorBar")

    def set_scale(self, scale: ColorScale | None, threshold: float = 0.0) -> None:
        self.scale, self.threshold = scale, threshold
        self.setToolTip(scale.title if scale is not None else "")
        self.updateGeometry()
        self.update()

    def ticks(self) -> list[tuple[float, str]]:
        if self.scale is None:
            return []
        ticks = self.scale.ticks()
        return [ticks[0], ticks[-1]] if self.compact and len(ticks) > 2 else ticks

    # ------------------------------------------------------------------ size
    def _bar_width(self) -> int:
        return max(8, int(QFontMetrics(self.font()).height() * BAR_WIDTH_EM))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        metrics = QFontMetrics(self.font())
        labels = max((metrics.horizontalAdvance(text) for _, text in self.ticks()), default=0)
        lines = len(self.scale.title_lines) if self.scale is not None else 1
        title = 0 if self.compact else lines * metrics.height() + GAP_PX
        width = self._bar_width() + TICK_PX + GAP_PX + labels + GAP_PX + title
        return QSize(width, 6 * metrics.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        hint = self.sizeHint()
        return QSize(hint.width(), 3 * QFontMetrics(self.font()).height())

    # ----------------------------------------------------------------- paint
    def paintEvent(self, _event):  # noqa: N802 - Qt override
        if self.scale is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = QFontMetrics(self.font())
        half = metrics.height() / 2
        bar = QRectF(1, half, self._bar_width(), max(4.0, self.height() - 2 * half))
        self._draw_bar(painter, bar)
        ink = self.palette().color(self.foregroundRole())
        painter.setPen(QPen(ink, 1))
        painter.drawRect(bar)
        for position, text in self.ticks():
            y = bar.bottom() - position * bar.height()
            painter.drawLine(int(bar.right()), int(y), int(bar.right() + TICK_PX), int(y))
            painter.drawText(QRectF(bar.right() + TICK_PX + GAP_PX, y - half, 1000,
                                    metrics.height()),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        if not self.compact:
            self._draw_title(painter, metrics)
        painter.end()

    def _draw_bar(self, painter: QPainter, bar: QRectF) -> None:
        table = lookup_table(self.scale.colormap)
        strip = QImage(1, 256, QImage.Format.Format_RGB32)
        for row in range(256):
            r, g, b = (int(v) for v in table[255 - row])
            strip.setPixelColor(0, row, QColor(r, g, b))
        painter.drawImage(bar, strip)
        if self.threshold > 0:  # below the threshold the map is not drawn: say so on the bar
            hidden = QRectF(bar.left(), bar.bottom() - self.threshold * bar.height(),
                            bar.width(), self.threshold * bar.height())
            painter.fillRect(hidden, Qt.BrushStyle.BDiagPattern)

    def _draw_title(self, painter: QPainter, metrics: QFontMetrics) -> None:
        """The title's lines, rotated, one beside the other at the bar's right."""
        lines = self.scale.title_lines
        painter.save()
        painter.translate(self.width() - 2 - (len(lines) - 1) * metrics.height(),
                          self.height() / 2)
        painter.rotate(-90)
        for number, line in enumerate(lines):
            text = metrics.elidedText(line, Qt.TextElideMode.ElideMiddle,
                                      max(10, self.height() - 4))
            box = QRectF(-self.height() / 2, (number - 1) * metrics.height(), self.height(),
                         metrics.height())
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()
