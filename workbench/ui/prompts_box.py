"""The Model dock's *Prompts* box, shown for a CLIP model: the prompts the user types are
the model's labels (zero-shot CLIP, Radford et al. 2021, https://arxiv.org/abs/2103.00020).

*Apply* recomputes the text embeddings on the worker (the image encoder stays) and tells
every tab that the model changed, so Predict, the CAMs, the attacks … use the new labels.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
)

DEFAULT_TEMPLATE = "a photo of a {}"  # as workbench.core.models.clip_zoo (kept Qt-side light)


def apply_prompts_job(model, text, template, ctx):
    """Worker job: the model's new labels (the prompts, split and cleaned)."""
    from workbench.core.models.clip_zoo import set_prompts

    return set_prompts(model, text, template, ctx)


def is_clip_model(model) -> bool:
    return model is not None and "prompts" in getattr(model, "extras", {})


class PromptsBox(QGroupBox):
    """Prompts (one per line, or comma-separated), the template, and Apply."""

    def __init__(self, state, runner, parent=None):
        super().__init__("Prompts", parent)
        self.setObjectName("promptsBox")
        self.state, self.runner = state, runner
        self.text = QPlainTextEdit()
        self.text.setObjectName("promptsText")
        self.text.setPlaceholderText("one per line, or: a cat, a dog, a car")
        self.text.setToolTip("the classes of a CLIP model: class names or whole sentences")
        self.text.setFixedHeight(5 * self.text.fontMetrics().lineSpacing() + 12)
        self.template = QLineEdit(DEFAULT_TEMPLATE)
        self.template.setObjectName("promptsTemplate")
        self.template.setToolTip("the sentence each prompt fills at {} (empty: the prompts "
                                 "as typed)")
        self.apply_button = QPushButton("Apply")
        self.apply_button.setObjectName("applyPrompts")
        self.apply_button.setToolTip("make these prompts the model's labels (every tab "
                                     "refreshes)")
        self.apply_button.clicked.connect(self.apply)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(self.text)
        form.addRow("Template", self.template)
        form.addRow(self.apply_button)
        form.addRow(self.note)
        self.setVisible(False)
        state.model_changed.connect(self.show_model)

    def show_model(self, model) -> None:
        """Visible for a CLIP model, with its current prompts and template."""
        clip = is_clip_model(model)
        self.setVisible(clip)
        if clip:
            self.text.setPlainText("\n".join(model.extras["prompts"]))
            self.template.setText(model.extras.get("template", DEFAULT_TEMPLATE))
            self.note.setText(f"{len(model.labels)} prompts are the labels")

    def set_prompts(self, prompts, template: str | None = None) -> None:
        """Type ``prompts`` (a list or text) and the template, as a user would."""
        self.text.setPlainText(prompts if isinstance(prompts, str) else "\n".join(prompts))
        if template is not None:
            self.template.setText(template)

    def apply(self) -> None:
        model = self.state.model
        if not is_clip_model(model):
            return
        self.note.setText("encoding the prompts …")
        self.apply_button.setEnabled(False)
        self.runner.submit(
            partial(apply_prompts_job, model, self.text.toPlainText(), self.template.text()),
            name="Encoding prompts", key="clip-prompts",
            on_finished=partial(self._applied, model), on_error=self._failed)

    def _applied(self, model, prompts) -> None:
        self.apply_button.setEnabled(True)
        if model is self.state.model:
            self.state.set_model(model)  # every tab refreshes with the new labels
            self.state.info(f"{len(prompts)} prompts are now the labels of {model.name}")

    def _failed(self, message: str) -> None:
        self.apply_button.setEnabled(True)
        self.note.setText(message)
        self.state.error(message)
