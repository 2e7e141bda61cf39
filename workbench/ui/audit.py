"""The layout audit: is every piece of text whole, reachable and readable?

It walks a shown window and reports, for every visible label, button, combo box and
check box, and for every text drawn inside a pyqtgraph view:

* **cut** — narrower (or lower) than the size its text needs: the widget's own size
  hint (``minimumSizeHint`` for controls, ``sizeHint`` for one-line labels,
  ``heightForWidth`` for wrapped ones);
* **unreachable** — partly outside an ancestor that clips it: outside a scroll area's
  viewport without a scroll bar that reaches it, or outside the window;
* **contrast** — the text's ink against its background, measured on the rendered
  pixels, below 4.5 : 1 (WCAG 2.1 AA, https://www.w3.org/TR/WCAG21/#contrast-minimum;
  like WCAG, disabled controls are exempt).

:func:`visit_all` shows every tab and every nested tab page in turn, so each
sub-view is audited where a user would see it.  Used by the tests and by
``benchmarks``-free checks alike; it never changes what it audits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QApplication,
    QComboBox,
    QLabel,
    QTabWidget,
    QWidget,
)

from workbench.io.colormaps import contrast_ratio

AA_CONTRAST = 4.5
INK_PERCENTILE = 95  # the text's own colour: the high-contrast tail of its "ink" pixels
MIN_INK_PIXELS = 6
SLACK_PX = 1
FRAME_INSET_PX = 4  # buttons and combo boxes: their frame and bevel


@dataclass(frozen=True)
class Finding:
    kind: str  # "cut", "unreachable" or "contrast"
    where: str  # tab path and widget, e.g. "Occlusion › Sliding window › QPushButton 'Stop'"
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.where}: {self.detail}"


# ------------------------------------------------------------------------- contrast
def image_pixels(image: QImage) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB of a ``QImage``."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, line = rgb.height(), rgb.width(), rgb.bytesPerLine()
    raw = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=h * line)
    return raw.reshape(h, line)[:, : 3 * w].reshape(h, w, 3).copy()


def ink_contrast(pixels: np.ndarray) -> float | None:
    """Contrast of the text drawn in ``pixels`` against their most common colour (the
    background); ``None`` when nothing is drawn there."""
    flat = pixels.reshape(-1, 3)
    if len(flat) == 0:
        return None
    colours, counts = np.unique(flat, axis=0, return_counts=True)
    background = colours[np.argmax(counts)]
    ratios = contrast_ratio(flat, background[None])
    ink = ratios[ratios > 1.15]
    if len(ink) < MIN_INK_PIXELS:
        return None
    return float(np.percentile(ink, INK_PERCENTILE))


# ------------------------------------------------------------------------- widgets
def _text_of(widget: QWidget) -> str:
    if isinstance(widget, QComboBox):
        return widget.currentText()
    text = getattr(widget, "text", None)
    return text() if callable(text) else ""


def _describe(widget: QWidget) -> str:
    text = _text_of(widget).replace("\n", " ")
    name = widget.objectName()
    label = f" '{text[:40]}'" if text else ""
    return f"{type(widget).__name__}{label}" + (f" #{name}" if name else "")


def _is_elided(widget: QWidget) -> bool:
    """superqt's eliding labels shorten their text on purpose (and say so in a tooltip)."""
    return type(widget).__name__ == "QElidingLabel"


def _cut(widget: QWidget) -> str | None:
    width, height = widget.width(), widget.height()
    if isinstance(widget, QLabel):
        if _is_elided(widget) or not widget.text():
            return None
        if widget.wordWrap():
            need = widget.heightForWidth(width)
            return f"height {height} < {need} needed at width {width}" if (
                need > height + SLACK_PX) else None
        hint = widget.sizeHint()
    elif isinstance(widget, (QAbstractButton, QComboBox)):
        if isinstance(widget, QAbstractButton) and not widget.text():
            return None
        hint = widget.minimumSizeHint()
    else:
        return None
    if width + SLACK_PX < hint.width():
        return f"width {width} < {hint.width()} its text needs"
    if height + SLACK_PX < hint.height():
        return f"height {height} < {hint.height()} its text needs"
    return None


def _unreachable(widget: QWidget, window: QWidget) -> str | None:
    """Part of ``widget`` that no ancestor shows and no scroll bar reaches."""
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        scroll = parent.parentWidget()
        visible = QRect(parent.mapTo(window, QPoint(0, 0)), parent.size())
        if isinstance(scroll, QAbstractScrollArea) and parent is scroll.viewport():
            horizontal, vertical = scroll.horizontalScrollBar(), scroll.verticalScrollBar()
            sideways = rect.left() < visible.left() or rect.right() > visible.right()
            upright = rect.top() < visible.top() or rect.bottom() > visible.bottom()
            if sideways and not _scrolls(horizontal):
                return "outside its scroll area, with no horizontal scroll bar"
            if sideways and _is_column(scroll):
                return "a column of controls that needs sideways scrolling to reach it"
            if upright and not _scrolls(vertical):
                return "outside its scroll area, with no vertical scroll bar"
            return None  # a scroll bar reaches it; what lies beyond is the area's business
        if not visible.adjusted(-SLACK_PX, -SLACK_PX, SLACK_PX, SLACK_PX).contains(rect):
            return f"clipped by {type(parent).__name__} ({_overlap(rect, visible)})"
        parent = parent.parentWidget()
    window_rect = QRect(QPoint(0, 0), window.size())
    if not window_rect.adjusted(-SLACK_PX, -SLACK_PX, SLACK_PX, SLACK_PX).contains(rect):
        return f"outside the window ({_overlap(rect, window_rect)})"
    return None


def _is_column(scroll) -> bool:
    """A scroll area holding a column of controls: it may scroll up and down, never
    sideways (grids and galleries that may set ``scrollsSideways``)."""
    from PySide6.QtWidgets import QScrollArea

    return isinstance(scroll, QScrollArea) and scroll.widgetResizable() and not bool(
        scroll.property("scrollsSideways"))


def _columns_hidden(view, window) -> str | None:
    """Columns of a tree or table (but the last, which may be cut) beyond its viewport."""
    header = getattr(view, "header", None) or getattr(view, "horizontalHeader", None)
    header = header() if callable(header) else None
    if header is None or header.isHidden():
        return None
    width = view.viewport().width()
    sections = [i for i in range(header.count()) if not header.isSectionHidden(i)]
    cut = [header.model().headerData(i, header.orientation()) for i in sections[:-1]
           if header.sectionViewportPosition(i) + header.sectionSize(i) > width + SLACK_PX]
    return f"columns {', '.join(map(str, cut))} need sideways scrolling" if cut else None


def _scrolls(bar) -> bool:
    return bar.isVisible() and bar.maximum() > bar.minimum()


def _overlap(rect: QRect, visible: QRect) -> str:
    shown = rect.intersected(visible)
    return f"{shown.width()}×{shown.height()} of {rect.width()}×{rect.height()} px shown"


def _contrast(widget: QWidget, window: QWidget, pixels: np.ndarray) -> str | None:
    """Measured where the widget sits in the window's own rendering (a widget grabbed
    alone paints its own palette's background, which may not be what the user sees)."""
    if not _text_of(widget).strip() or not widget.isEnabled():
        return None
    inset = 0 if isinstance(widget, QLabel) else FRAME_INSET_PX  # the frame is not the text
    shown = widget.visibleRegion().boundingRect()  # a clipped widget: only what is shown
    inner = QRect(QPoint(0, 0), widget.size()).adjusted(inset, inset, -inset, -inset)
    part = shown.intersected(inner)
    rect = QRect(widget.mapTo(window, part.topLeft()), part.size()).intersected(
        QRect(0, 0, pixels.shape[1], pixels.shape[0]))
    if rect.width() < 2 or rect.height() < 0.6 * widget.height() - 2 * inset:
        return None  # mostly scrolled out of view: judged where it can be seen
    return _verdict(ink_contrast(pixels[rect.top(): rect.bottom() + 1,
                                        rect.left(): rect.right() + 1]))


def _verdict(ratio: float | None) -> str | None:
    """``None`` ink means the text is drawn in (almost) the background's colour."""
    if ratio is None:
        return "text not visible against its background"
    if ratio < AA_CONTRAST:
        return f"text contrast {ratio:.2f} : 1 < {AA_CONTRAST}"
    return None


def _showing(widget: QWidget) -> bool:
    return widget.isVisible() and widget.width() > 0 and widget.height() > 0


def audit_widgets(root: QWidget, where: str, window: QWidget | None = None) -> list[Finding]:
    """Findings for the visible text widgets under ``root``."""
    window = window or root.window()
    pixels = image_pixels(window.grab().toImage())
    findings = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, (QLabel, QAbstractButton, QComboBox)) or not _showing(widget):
            continue
        if isinstance(widget.parentWidget(), QComboBox):  # a combo's own line edit / view
            continue
        for kind, detail in (("cut", _cut(widget)),
                             ("contrast", _contrast(widget, window, pixels))):
            if detail:
                findings.append(Finding(kind, f"{where} › {_describe(widget)}", detail))
        detail = _unreachable(widget, window)
        if detail:
            findings.append(Finding("unreachable", f"{where} › {_describe(widget)}", detail))
    for view in root.findChildren(QAbstractItemView):
        detail = _columns_hidden(view, window) if _showing(view) else None
        if detail:
            findings.append(Finding("unreachable", f"{where} › {_describe(view)}", detail))
    return findings


# ------------------------------------------------------------------------- pyqtgraph
def audit_plots(root: QWidget, where: str) -> list[Finding]:
    """Contrast of every text item drawn in the pyqtgraph views under ``root``."""
    import pyqtgraph as pg

    findings = []
    for view in root.findChildren(pg.GraphicsView):
        if not _showing(view):
            continue
        pixels = image_pixels(view.grab().toImage())
        for item in view.scene().items():
            text = _graphics_text(item)
            if not text or not item.isVisible():
                continue
            box = item.deviceTransform(view.viewportTransform()).mapRect(
                item.boundingRect()).toAlignedRect()
            box = box.intersected(QRect(0, 0, pixels.shape[1], pixels.shape[0]))
            if box.width() < 3 or box.height() < 3:
                continue
            detail = _verdict(ink_contrast(pixels[box.top(): box.bottom() + 1,
                                                  box.left(): box.right() + 1]))
            if detail:
                findings.append(Finding("contrast", f"{where} › plot text '{text[:40]}'", detail))
    return findings


def _graphics_text(item) -> str:
    from PySide6.QtWidgets import QGraphicsTextItem

    if isinstance(item, QGraphicsTextItem):
        return item.toPlainText().strip()
    return ""


# ------------------------------------------------------------------------- visiting
def visit_all(window: QWidget, settle=None):
    """Show every page of every ``QTabWidget`` in ``window`` in turn; yield its path.

    ``settle()`` runs after each switch (process events, wait for jobs).  The tabs
    end on the pages they started on.
    """
    settle = settle or QApplication.processEvents
    yield from _visit(window, [], settle)


def _visit(root: QWidget, path: list[str], settle):
    if isinstance(root, QTabWidget):
        start = root.currentIndex()
        for index in range(root.count()):
            root.setCurrentIndex(index)
            settle()
            yield from _visit(root.widget(index), [*path, root.tabText(index)], settle)
        root.setCurrentIndex(start)
        settle()
        return
    tabs = [t for t in root.findChildren(QTabWidget) if _nearest_tabs(t, root) and _showing(t)]
    if not tabs:
        yield " › ".join(path) or "window"
        return
    for tab_widget in tabs:
        yield from _visit(tab_widget, path, settle)


def _nearest_tabs(tab_widget: QTabWidget, root: QWidget) -> bool:
    """``tab_widget`` lies under ``root`` with no other tab widget in between."""
    parent = tab_widget.parentWidget()
    while parent is not None and parent is not root:
        if isinstance(parent, QTabWidget):
            return False
        parent = parent.parentWidget()
    return parent is root


def audit_window(window: QWidget, settle=None, size=None) -> list[Finding]:
    """Visit every tab page of ``window`` and audit what each shows (docks included);
    with ``size`` (width, height), also that the window kept the size it was given."""
    findings: list[Finding] = []
    if size is not None and (window.width(), window.height()) != tuple(size):
        findings.append(Finding("unreachable", "window", f"asked for {size[0]}×{size[1]}, the "
                                f"layouts forced {window.width()}×{window.height()}"))
    seen: set[tuple[str, str]] = set()
    for where in visit_all(window, settle):
        for finding in audit_widgets(window, where, window) + audit_plots(window, where):
            key = (finding.kind, finding.where.rsplit(" › ", 1)[-1])  # docks: once, not per tab
            if key not in seen:
                seen.add(key)
                findings.append(finding)
    return findings
