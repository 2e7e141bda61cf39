"""The Adversarial tab's typographic mode: write a word on the picture — its position (drag
it), size and colour — and watch the prediction change live (Goh et al. 2021, "Multimodal
neurons", https://distill.pub/2021/multimodal-neurons/: a CLIP model reads an apple labelled
"iPod" as an iPod; Radford et al. 2021, https://arxiv.org/abs/2103.00020).  Any model works;
with a ``clip:`` model whose prompts include the word it is the lecture's slide."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from workbench.ui.widgets.forms import OnShow, column, split, stacked
from workbench.ui.widgets.image_view import ImageView

COLOURS = {"black": (0.0, 0.0, 0.0), "white": (1.0, 1.0, 1.0), "red": (0.85, 0.1, 0.1),
           "blue": (0.1, 0.25, 0.85), "yellow": (1.0, 0.9, 0.1)}
NOTES = {"white note": (1.0, 1.0, 1.0), "yellow note": (1.0, 0.95, 0.55), "none": None}
DEBOUNCE_MS = 120
TOP_K = 5


def typographic_job(model, image, spec, ctx):
    """Worker job: the top-k of the clean and of the written picture."""
    from workbench.core.adversarial.typographic import typographic_effect

    return typographic_effect(model, image, spec, TOP_K, ctx)


class TypographicPage:
    """``views`` (the written picture, draggable word | the two predictions) and
    ``controls`` (word, size, colour, note)."""

    def __init__(self, panel):
        self.panel = panel
        self.position: tuple[float, float] | None = None  # centre of the word, image pixels
        self.result = None
        self._dragging = False
        self._timer = QTimer(panel)  # dies with the tab: never fires into a closed window
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.predict)
        self.view = ImageView(title="drag the word to move it")
        self.view.view.mouseDragEvent = self._drag
        self.view.canvas.scene().sigMouseClicked.connect(self._clicked)
        self.before = QLabel("")
        self.after = QLabel("")
        self.verdict = QLabel("Write a word on the picture")
        for label in (self.before, self.after, self.verdict):
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.verdict.setObjectName("typographicVerdict")
        scores = column(QLabel("<b>clean picture</b>"), self.before,
                        QLabel("<b>with the word</b>"), self.after, (self.verdict, 1))
        scores.setMinimumWidth(26 * scores.fontMetrics().averageCharWidth())
        self.views = split(False, self.view, scores, stretch=(3, 1))
        self.controls = self._controls()
        self._stale = False
        self._shown = OnShow(self._on_shown)
        self.views.installEventFilter(self._shown)
        panel.state.image_changed.connect(self._on_image)
        panel.state.model_changed.connect(lambda _model: self.schedule())

    def _controls(self) -> QWidget:
        self.word = QLineEdit("iPod")
        self.word.setObjectName("typographicWord")
        self.word.setToolTip("the word written on the picture")
        self.word.textChanged.connect(lambda _t: self.update())
        self.size = QSpinBox(minimum=4, maximum=2000, value=48, suffix=" px")
        self.size.setObjectName("typographicSize")
        self.size.setToolTip("font size in the picture's pixels")
        self.size.valueChanged.connect(lambda _v: self.update())
        self.colour = QComboBox()
        self.colour.addItems(list(COLOURS))
        self.colour.setToolTip("colour of the letters")
        self.colour.currentIndexChanged.connect(lambda _i: self.update())
        self.note = QComboBox()
        self.note.addItems(list(NOTES))
        self.note.setToolTip("a paper note behind the word, as in the lecture's photo")
        self.note.currentIndexChanged.connect(lambda _i: self.update())
        box = QGroupBox("Typographic attack")
        form = QFormLayout(box)
        form.addRow("Word", self.word)
        form.addRow("Size", self.size)
        form.addRow("Colour", self.colour)
        form.addRow("Behind", self.note)
        hint = QLabel("Drag the word on the picture, or click where it goes. With a CLIP "
                      "model, put the word among the prompts (Model dock).")
        hint.setWordWrap(True)
        form.addRow(hint)
        return stacked(box)

    # ----------------------------------------------------------------- drawing
    def spec(self):
        from workbench.core.adversarial.typographic import TextSpec

        return TextSpec(self.word.text(), self.position or (0.0, 0.0), float(self.size.value()),
                        COLOURS[self.colour.currentText()], NOTES[self.note.currentText()])

    def _on_image(self, image) -> None:
        self.result = None
        if image is None:
            self.view.set_image(None)
            return
        h, w = image.shape[:2]
        self.position = (w / 2, h / 2)
        self.size.blockSignals(True)
        self.size.setValue(max(8, round(min(h, w) / 7)))
        self.size.blockSignals(False)
        self.update()

    def update(self) -> None:
        """Redraw the word at once (cheap), then ask the model (debounced)."""
        from workbench.core.adversarial.typographic import write_text
        from workbench.errors import WorkbenchError

        image = self.panel.state.image
        if image is None or self.position is None:
            return
        try:
            written = write_text(image, self.spec())
        except WorkbenchError as exc:  # a bad size or colour: say it, keep going
            self.verdict.setText(str(exc))
            return
        self.view.image_item.setImage(_display(written), autoLevels=False, levels=(0, 255))
        if self.view.image is None or self.view.image.shape != written.shape:
            self.view.set_image(written)
        self.view.image = written
        self.schedule()

    def _on_shown(self) -> None:
        if self._stale:
            self.schedule()

    def schedule(self) -> None:
        self._timer.start()

    def move_to(self, x: float, y: float) -> None:
        """Put the word's centre at ``(x, y)`` in the picture's pixels."""
        image = self.panel.state.image
        if image is None:
            return
        h, w = image.shape[:2]
        self.position = (min(max(x, 0.0), w - 1.0), min(max(y, 0.0), h - 1.0))
        self.update()

    def _image_point(self, scene_pos):
        point = self.view.image_item.mapFromScene(scene_pos)
        return point.x(), point.y()

    def _drag(self, event, axis=None) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        event.accept()
        self.move_to(*self._image_point(event.scenePos()))

    def _clicked(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.view.image is not None:
            self.move_to(*self._image_point(event.scenePos()))

    # -------------------------------------------------------------- predicting
    def predict(self) -> None:
        panel = self.panel
        if not self.views.isVisible():  # asked again when the page is shown
            self._stale = True
            return
        self._stale = False
        model, image = panel.state.job_model(), panel.state.image
        if model is None or image is None or self.position is None or model.kind == "video":
            return
        panel.runner.submit(partial(typographic_job, model, image, self.spec()),
                            name="Typographic attack", key="typographic",
                            on_finished=self._show, on_error=self.verdict.setText)

    def _show(self, result) -> None:
        from workbench.ui.tabs.adversarial.attack_page import scores_text

        self.result = result
        self.before.setText(scores_text(result.before))
        self.after.setText(scores_text(result.after))
        was, now = result.before[0], result.after[0]
        if was.index == now.index:
            self.verdict.setText(f"still {now.label} ({was.prob:.1%} → {now.prob:.1%})")
        else:
            self.verdict.setText(f"<b>{was.label} → {now.label}</b> ({now.prob:.1%})")


def _display(image):
    from workbench.ui.widgets.image_view import to_display

    return to_display(image)
