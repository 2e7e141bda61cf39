"""The Convolution page's quiz: the lecture's questions one at a time; *Reveal the answer*
sets the calculator to the question's numbers and shows the answer it computes
(:mod:`workbench.core.inspect.conv_quiz`), formulas filled in."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from workbench.core.inspect.conv_quiz import QUESTIONS, answer_lines


class QuizBox(QGroupBox):
    """``show_question(i)``, ``reveal()``; ``index`` is the question shown."""

    def __init__(self, page, parent=None):
        super().__init__("Quiz", parent)
        self.setObjectName("convQuiz")
        self.page = page
        self.index = 0
        self.revealed = False
        self.question = QLabel("")
        self.question.setObjectName("quizQuestion")
        self.question.setWordWrap(True)
        self.answer = QLabel("")
        self.answer.setObjectName("quizAnswer")
        self.answer.setWordWrap(True)
        self.previous = self._button("◀", "the previous question", lambda: self.step(-1))
        self.next = self._button("▶", "the next question", lambda: self.step(1))
        self.reveal_button = self._button("Reveal the answer", "set the calculator to the "
                                          "question and show what it computes", self.reveal)
        self.reveal_button.setObjectName("quizReveal")
        buttons = QHBoxLayout()
        buttons.addWidget(self.previous)
        buttons.addWidget(self.next)
        buttons.addWidget(self.reveal_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.question)
        layout.addLayout(buttons)
        layout.addWidget(self.answer)
        self.show_question(0)

    @staticmethod
    def _button(text: str, tip: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(lambda *_: slot())
        return button

    def step(self, delta: int) -> None:
        self.show_question((self.index + delta) % len(QUESTIONS))

    def show_question(self, index: int) -> None:
        self.index, self.revealed = index, False
        self.question.setText(f"<b>Question {index + 1} of {len(QUESTIONS)}.</b> "
                              f"{escape(QUESTIONS[index].text)}")
        self.answer.setText("")
        self.answer.hide()

    def reveal(self) -> None:
        question = QUESTIONS[self.index]
        for key, value in question.settings().items():
            self.page.spins[key].setValue(value)
        self.revealed = True
        self.answer.setText("<br>".join(escape(line) for line in answer_lines(question)))
        self.answer.show()
