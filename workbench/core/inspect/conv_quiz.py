"""The lecture's convolution-arithmetic questions, answered by
:func:`workbench.core.inspect.conv.conv_answer` (never typed in).

Dumoulin & Visin, "A guide to convolution arithmetic for deep learning", 2016,
https://arxiv.org/abs/1603.07285; CS231n notes, https://cs231n.github.io/convolutional-networks/
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.core.inspect.conv import ConvAnswer, conv_answer


@dataclass(frozen=True)
class QuizQuestion:
    text: str
    h: int
    w: int
    c: int
    kernel: int
    out_channels: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    asks: tuple = ("output", "params")  # which numbers the question asks for

    def settings(self) -> dict:
        """The calculator's fields for this question."""
        return {"h": self.h, "w": self.w, "c": self.c, "kernel": self.kernel,
                "out_channels": self.out_channels, "stride": self.stride,
                "padding": self.padding, "dilation": self.dilation}


QUESTIONS = (
    QuizQuestion("Input 32×32×3, 10 filters 5×5, stride 1, pad 2: output size? parameters?",
                 32, 32, 3, 5, 10, 1, 2),
    QuizQuestion("Input 7×7×1, one 3×3 filter, stride 2, no padding: output size?",
                 7, 7, 1, 3, 1, 2, 0, asks=("output",)),
    QuizQuestion("AlexNet's first layer: input 227×227×3, 96 filters 11×11, stride 4, no "
                 "padding: output size? parameters?", 227, 227, 3, 11, 96, 4, 0),
    QuizQuestion("A 1×1 convolution: input 56×56×64, 32 filters 1×1: output size? "
                 "parameters?", 56, 56, 64, 1, 32),
    QuizQuestion("Input 28×28×1, a 7×7 kernel at stride 3: output size? How large is the "
                 "convolution as a matrix?", 28, 28, 1, 7, 1, 3, 0,
                 asks=("output", "matrix")),
    QuizQuestion("A 3×3 filter with dilation 2 on 32×32×16, 16 filters, pad 2: output size? "
                 "receptive field?", 32, 32, 16, 3, 16, 1, 2, 2,
                 asks=("output", "receptive_field")),
)


def answer(question: QuizQuestion) -> ConvAnswer:
    return conv_answer(**question.settings())


def answer_lines(question: QuizQuestion) -> list[str]:
    """The asked numbers, each with its formula filled in."""
    a = answer(question)
    values = {
        "output": "×".join(str(v) for v in a.output),
        "params": f"{a.params:,}".replace(",", " "),
        "receptive_field": str(a.receptive_field),
        "matrix": "×".join(str(v) for v in a.matrix_shape),
    }
    names = {"output": "output", "params": "parameters", "receptive_field":
             "receptive field", "matrix": "matrix"}
    return [f"{names[key]} {values[key]}: {a.formulas[key]}" for key in question.asks]
