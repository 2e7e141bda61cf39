"""The convolution quiz: every question's answer comes from the calculator's formulas and
matches the lecture's known answers."""

import pytest

from workbench.core.inspect.conv import output_size
from workbench.core.inspect.conv_quiz import QUESTIONS, answer, answer_lines

KNOWN = {  # the lecture's answers, worked by hand: (output, parameters)
    0: ((32, 32, 10), 760),
    1: ((3, 3, 1), 10),
    2: ((55, 55, 96), 34_944),
    3: ((56, 56, 32), 2_080),
    4: ((8, 8, 1), 50),
}


@pytest.mark.parametrize("index", sorted(KNOWN))
def test_answers_match_the_lecture(index):
    a = answer(QUESTIONS[index])
    assert (a.output, a.params) == KNOWN[index]


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.text[:30])
def test_answers_are_the_formula(question):
    a = answer(question)
    q = question
    side = output_size(q.h, q.kernel, q.stride, q.padding, q.dilation)
    assert side == (q.h - (q.dilation * (q.kernel - 1) + 1) + 2 * q.padding) // q.stride + 1
    assert a.output == (side, side, q.out_channels)
    assert a.params == q.kernel ** 2 * q.c * q.out_channels + q.out_channels
    lines = answer_lines(question)
    assert len(lines) == len(question.asks)
    assert "×".join(map(str, a.output)) in lines[0]
    assert f"({q.h} − " in lines[0] and "⌋ + 1" in lines[0]


def test_the_matrix_and_the_dilated_receptive_field():
    matrix = answer(QUESTIONS[4])
    assert matrix.matrix_shape == (64, 784) and "64×784" in answer_lines(QUESTIONS[4])[1]
    dilated = answer(QUESTIONS[5])
    assert dilated.receptive_field == 5 and dilated.output == (32, 32, 16)
