"""The colour bar beside every map: its colours, round values of the range shown, and the
map's units.  It reads a :class:`~workbench.io.overlay.ColorScale` (the same one exports
draw) and follows the theme: text in the palette's colour and the application's font,
so presentation mode enlarges it like everything else.  Beside a wide view it stands
upright; under a narrow one it lies flat (:meth:`ColorBar.set_horizontal`)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from workbench.io.colormaps import lookup_table
from workbench.io.overlay import ColorScale
from workbench.ui.theme import font_px, pen_width

BAR_WIDTH_EM = 0.9
TICK_PX = 4
GAP_PX = 4


def _strip(colormap: str, horizontal: bool) -> QImage:
    table = lookup_table(colormap)
    strip = QImage(256, 1, QImage.Format.Format_RGB32) if horizontal else \
        QImage(1, 256, QImage.Format.Format_RGB32)
    for index in range(256):
        r, g, b = (int(v) for v in table[index if horizontal else 255 - index])
        strip.setPixelColor(index if horizontal else 0, 0 if horizontal else index,
                            QColor(r, g, b))
    return strip


class ColorBar(QWidget):
    """``compact`` writes only the two ends (grid cells), no title."""

    def __init__(self, parent=None, compact: bool = False):
        super().__init__(parent)
        self.scale: ColorScale | None = None
        self.threshold = 0.0
        self.compact = compact
        self.horizontal = False
        self.setObjectName("colorBar")
        self._policy()

    def set_scale(self, scale: ColorScale | None, threshold: float = 0.0) -> None:
        self.scale, self.threshold = scale, threshold
        self.setToolTip(scale.title if scale is not None else "")
        self.updateGeometry()
        self.update()

    def set_horizontal(self, horizontal: bool) -> None:
        if horizontal != self.horizontal:
            self.horizontal = horizontal
            self._policy()
            self.updateGeometry()
            self.update()

    def _policy(self) -> None:
        fixed, free = QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred
        self.setSizePolicy(*((free, fixed) if self.horizontal else (fixed, free)))

    def ticks(self) -> list[tuple[float, str]]:
        if self.scale is None:
            return []
        ticks = self.scale.ticks()
        if self.horizontal and not self.compact:  # as many as fit side by side
            label = max(QFontMetrics(self.font()).horizontalAdvance(t) for _, t in ticks)
            ticks = self.scale.ticks(max(2, min(5, self.width() // max(1, 2 * label))))
        return [ticks[0], ticks[-1]] if self.compact and len(ticks) > 2 else ticks

    def _lines(self) -> list[str]:
        return [] if self.compact or self.scale is None else self.scale.title_lines

    # ------------------------------------------------------------------ size
    def _tick(self) -> int:
        return font_px(TICK_PX)

    def _bar_width(self) -> int:
        return max(8, int(QFontMetrics(self.font()).height() * BAR_WIDTH_EM))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        metrics = QFontMetrics(self.font())
        lines = len(self._lines())
        if self.horizontal:
            height = self._bar_width() + self._tick() + (1 + lines) * metrics.height() + GAP_PX
            return QSize(8 * metrics.height(), height)
        labels = max((metrics.horizontalAdvance(text) for _, text in self.ticks()), default=0)
        title = lines * metrics.height() + (GAP_PX if lines else 0)
        width = self._bar_width() + self._tick() + GAP_PX + labels + GAP_PX + title
        return QSize(width, 6 * metrics.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        hint = self.sizeHint()
        short = 3 * QFontMetrics(self.font()).height()
        return QSize(short, hint.height()) if self.horizontal else QSize(hint.width(), short)

    # ----------------------------------------------------------------- paint
    def paintEvent(self, _event):  # noqa: N802 - Qt override
        if self.scale is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = QFontMetrics(self.font())
        painter.setPen(QPen(self.palette().color(self.foregroundRole()), pen_width(1)))
        if self.horizontal:
            self._paint_flat(painter, metrics)
        else:
            self._paint_upright(painter, metrics)
        painter.end()

    def _paint_upright(self, painter: QPainter, metrics: QFontMetrics) -> None:
        half = metrics.height() / 2
        bar = QRectF(1, half, self._bar_width(), max(4.0, self.height() - 2 * half))
        self._draw_bar(painter, bar)
        for position, text in self.ticks():
            y = bar.bottom() - position * bar.height()
            painter.drawLine(int(bar.right()), int(y), int(bar.right() + self._tick()), int(y))
            painter.drawText(QRectF(bar.right() + self._tick() + GAP_PX, y - half, 1000,
                                    metrics.height()),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        lines = self._lines()
        if not lines:
            return
        painter.save()
        painter.translate(self.width() - 2 - (len(lines) - 1) * metrics.height(),
                          self.height() / 2)
        painter.rotate(-90)
        for number, line in enumerate(lines):  # rotated, one beside the other
            text = metrics.elidedText(line, Qt.TextElideMode.ElideMiddle,
                                      max(10, self.height() - 4))
            box = QRectF(-self.height() / 2, (number - 1) * metrics.height(), self.height(),
                         metrics.height())
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def _paint_flat(self, painter: QPainter, metrics: QFontMetrics) -> None:
        ends = max((metrics.horizontalAdvance(text) for _, text in self.ticks()), default=0)
        margin = ends / 2 + 2
        bar = QRectF(margin, 1, max(4.0, self.width() - 2 * margin), self._bar_width())
        self._draw_bar(painter, bar)
        for position, text in self.ticks():
            x = bar.left() + position * bar.width()
            painter.drawLine(int(x), int(bar.bottom()), int(x), int(bar.bottom() + self._tick()))
            painter.drawText(QRectF(x - 500, bar.bottom() + self._tick(), 1000, metrics.height()),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, text)
        top = bar.bottom() + self._tick() + metrics.height()
        lines = self._lines()
        room = int((self.height() - top) // metrics.height())
        if room < len(lines):  # squeezed: one line, elided, rather than lines cut in half
            lines = [" ".join(lines)] if room >= 1 else []
        for number, line in enumerate(lines):
            text = metrics.elidedText(line, Qt.TextElideMode.ElideMiddle, self.width() - 4)
            painter.drawText(QRectF(0, top + number * metrics.height(), self.width(),
                                    metrics.height()), Qt.AlignmentFlag.AlignCenter, text)

    def _draw_bar(self, painter: QPainter, bar: QRectF) -> None:
        painter.drawImage(bar, _strip(self.scale.colormap, self.horizontal))
        if self.threshold > 0:  # below the threshold the map is not drawn: say so on the bar
            hidden = QRectF(bar.left(), bar.top(), self.threshold * bar.width(), bar.height()) \
                if self.horizontal else QRectF(bar.left(),
                                               bar.bottom() - self.threshold * bar.height(),
                                               bar.width(), self.threshold * bar.height())
            painter.fillRect(hidden, Qt.BrushStyle.BDiagPattern)
        painter.drawRect(bar)
