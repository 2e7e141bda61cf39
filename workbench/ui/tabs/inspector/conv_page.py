"""The Convolution page: a calculator for one convolution (output shape, parameters, MACs,
receptive field, with the formulas filled in) and the convolution unrolled as a matrix,
drawn as its sparsity pattern for small inputs.  It needs no model; nothing runs on the
worker (the numbers are closed formulas, the matrix of a small input takes milliseconds)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QLabel, QSpinBox, QWidget

from workbench.errors import WorkbenchError
from workbench.ui.tabs.inspector.quiz import QuizBox
from workbench.ui.theme import current_theme
from workbench.ui.widgets.forms import column, form_box
from workbench.ui.widgets.image_view import ImageView

MAX_DRAWN = 1_000_000  # matrix entries drawn at most (rows × columns)
DEFAULTS = {"h": 3, "w": 3, "c": 1, "kernel": 2, "out_channels": 1, "stride": 1,
            "padding": 0, "dilation": 1}
LIMITS = {"h": (1, 1024), "w": (1, 1024), "c": (1, 2048), "kernel": (1, 31),
          "out_channels": (1, 2048), "stride": (1, 16), "padding": (0, 32),
          "dilation": (1, 16)}
LABELS = {"h": "Height H", "w": "Width W", "c": "Channels C", "kernel": "Kernel F",
          "out_channels": "Filters C_out", "stride": "Stride", "padding": "Padding",
          "dilation": "Dilation"}


def dims(values) -> str:
    """``(2, 2, 1)`` → ``2×2×1``; a number stays a number."""
    if isinstance(values, (tuple, list)):
        return "×".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)
    return f"{values:g}" if isinstance(values, float) else str(values)


def grouped(value: int) -> str:
    return f"{int(value):,}".replace(",", " ")


def sparsity_picture(matrix: np.ndarray, rows: np.ndarray, colors: dict) -> np.ndarray:
    """``(R, C, 3)`` float RGB: zero = background, non-zero = ink, the ``rows`` (one output
    position) in the highlight colour."""
    def rgb(name):
        text = colors[name].lstrip("#")
        return np.array([int(text[i:i + 2], 16) for i in (0, 2, 4)], np.float32) / 255.0

    background, ink, mark = rgb("background"), rgb("foreground"), rgb("bar_top")
    nonzero = matrix != 0
    picture = np.where(nonzero[..., None], ink, background).astype(np.float32)
    tint = 0.75 * background + 0.25 * mark
    picture[rows] = np.where(nonzero[rows][..., None], mark, tint)
    return picture


class ConvPage(QWidget):
    """``answer`` holds the last ``ConvAnswer``; ``matrix`` the drawn matrix (or ``None``
    when the input is too large to draw)."""

    def __init__(self, panel, parent=None):
        super().__init__(parent)
        self.answer = None
        self.matrix: np.ndarray | None = None
        self.spins = {key: self._spin(key) for key in DEFAULTS}
        self.out_row, self.out_col = QSpinBox(), QSpinBox()
        for spin, name in ((self.out_row, "row"), (self.out_col, "column")):
            spin.setObjectName(f"convOutput{name.title()}")
            spin.setToolTip(f"the output position's {name} whose matrix rows are highlighted")
            spin.valueChanged.connect(lambda _v: self._draw())
        self.summary = QLabel("")
        self.summary.setObjectName("convSummary")
        self.summary.setWordWrap(True)
        self.formulas = QLabel("")
        self.formulas.setObjectName("convFormulas")
        self.formulas.setWordWrap(True)
        self.view = ImageView(title="the convolution as a matrix")
        self.view.canvas.setMinimumSize(120, 120)
        self.view.view.setAspectLocked(False)  # a wide matrix fills the view, rows readable
        self.quiz = QuizBox(self)  # in the scrolling column: the views keep their height
        views = column(self.summary, self.formulas, (self.view, 1))
        s = self.spins
        controls = column(
            self.quiz,
            form_box("Input", *((LABELS[k], s[k]) for k in ("h", "w", "c"))),
            form_box("Convolution", *((LABELS[k], s[k]) for k in
                                      ("kernel", "out_channels", "stride", "padding",
                                       "dilation"))),
            form_box("Highlight output", ("Row", self.out_row), ("Column", self.out_col)),
            (QWidget(), 1))
        panel.lay_out(views, controls, host=self)
        self.compute()

    def _spin(self, key: str) -> QSpinBox:
        low, high = LIMITS[key]
        spin = QSpinBox(minimum=low, maximum=high, value=DEFAULTS[key])
        spin.setObjectName(f"conv_{key}")
        spin.valueChanged.connect(lambda _v: self.compute())
        return spin

    def values(self) -> dict:
        return {key: spin.value() for key, spin in self.spins.items()}

    def compute(self) -> None:
        """Recompute the answer and redraw (every spin box change)."""
        from workbench.core.inspect.conv import conv_answer

        v = self.values()
        try:
            answer = conv_answer(v["h"], v["w"], v["c"], v["kernel"], v["out_channels"],
                                 stride=v["stride"], padding=v["padding"],
                                 dilation=v["dilation"])
        except WorkbenchError as exc:
            self.answer, self.matrix = None, None
            self.summary.setText(f"⚠ {exc}")
            self.formulas.setText("")
            self.view.set_image(None)
            self.view.set_title("no matrix for these numbers")
            return
        self.answer = answer
        self._show_numbers(answer)
        self._build_matrix(v, answer)
        self._draw()

    def _show_numbers(self, a) -> None:
        rows, cols = a.matrix_shape
        entries = rows * cols
        density = a.nonzeros / entries if entries else 0.0
        self.summary.setText(
            f"input {dims(a.input)} → output {dims(a.output)} · parameters "
            f"{grouped(a.params)} · MACs {grouped(a.macs)} · receptive field "
            f"{dims(a.receptive_field)} · jump {dims(a.jump)}\n"
            f"as a matrix: {rows}×{cols} (outputs × inputs) · {grouped(a.nonzeros)} "
            f"non-zeros of {grouped(entries)} ({density:.1%})")
        self.formulas.setText("\n".join(f"{key}: {text}" for key, text in
                                        (a.formulas or {}).items()))

    def _build_matrix(self, v: dict, a) -> None:
        from workbench.core.inspect.conv import MAX_MATRIX_ENTRIES, conv_matrix

        rows, cols = a.matrix_shape
        out_h, out_w = self._output_grid(a)
        for spin, size in ((self.out_row, out_h), (self.out_col, out_w)):
            spin.blockSignals(True)
            spin.setMaximum(max(0, size - 1))
            spin.blockSignals(False)
        if rows * cols > min(MAX_DRAWN, MAX_MATRIX_ENTRIES):
            self.matrix = None
            return
        self.matrix = conv_matrix(v["h"], v["w"], v["c"], v["kernel"], v["out_channels"],
                                  stride=v["stride"], padding=v["padding"],
                                  dilation=v["dilation"])

    @staticmethod
    def _output_grid(a) -> tuple[int, int]:
        out = tuple(a.output) if isinstance(a.output, (tuple, list)) else (a.output,)
        return (int(out[0]), int(out[1])) if len(out) >= 2 else (int(out[0]), 1)

    def highlighted_rows(self) -> np.ndarray:
        """Matrix rows of the chosen output position, one per filter (the output flattens
        channels-last, ``(H', W', C_out)``: row ``(y·W' + x)·C_out + c``)."""
        _out_h, out_w = self._output_grid(self.answer)
        filters = self.spins["out_channels"].value()
        position = self.out_row.value() * out_w + self.out_col.value()
        return position * filters + np.arange(filters)

    def _draw(self) -> None:
        if self.answer is None:
            return
        rows, cols = self.answer.matrix_shape
        if self.matrix is None:
            self.view.set_image(None)
            self.view.set_title(f"the {rows}×{cols} matrix ({grouped(rows * cols)} entries) "
                                f"is too large to draw: at most {grouped(MAX_DRAWN)} entries "
                                "(make the input smaller)")
            return
        picture = sparsity_picture(self.matrix, self.highlighted_rows(),
                                   current_theme().colors)
        self.view.set_image(picture)
        self.view.setBackground(current_theme().colors["background"])
        self.view.set_title(f"{rows}×{cols} matrix (rows: outputs, columns: inputs) · ink: "
                            f"non-zero weight · orange: output ({self.out_row.value()}, "
                            f"{self.out_col.value()})")

    def on_theme(self) -> None:
        self._draw()
