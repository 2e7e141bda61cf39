"""*File → Report…*: choose inputs, analyses, attribution methods and layer, and where to
save; the report runs on the model worker (progress and Cancel in the status bar), reuses
what the tabs already show, and is written as PDF and / or self-contained HTML."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.report import ReportInput, ReportOptions

ANALYSES = (("predict", "Prediction (top-k)"), ("occlusion", "Occlusion sweep"),
            ("paint-occlusion", "Painted occlusion (the Occlusion tab's mask)"),
            ("adversarial", "Adversarial example (FGSM, 8/255)"),
            ("featviz", "Feature visualization (channel 0)"),
            ("embedding", "Embedding map with neighbours"), ("video", "Video timeline"),
            ("model", "Model summary"))
DEFAULT_ON = {"predict", "occlusion"}
DEFAULT_LAYER = "(the model's default)"
FORMATS = ("PDF", "HTML", "PDF and HTML")


class ReportDialog(QDialog):
    """The choices of a report; :meth:`request` turns them into what ``build_report`` takes."""

    def __init__(self, window, parent=None):
        super().__init__(parent or window)
        from workbench.ui.report_reuse import session_choices

        self.window = window
        self.choices = session_choices(window)  # the parameters of what the tabs show
        self.setWindowTitle("Report")
        layout = QVBoxLayout(self)
        layout.addWidget(self._inputs_box())
        row = QHBoxLayout()
        row.addWidget(self._analyses_box())
        row.addWidget(self._methods_box())
        layout.addLayout(row)
        layout.addWidget(self._output_box())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = buttons.addButton("Create report",
                                               QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    # ----------------------------------------------------------------- widgets
    def _inputs_box(self) -> QGroupBox:
        box = QGroupBox("Inputs")
        self.inputs = QListWidget()
        self.inputs.setMaximumHeight(120)
        records = list(getattr(self.window.inputs, "records", {}).values())
        current = self.window.inputs.current_record()
        for record in records:
            if record.path is None and record.image is None:
                continue
            item = QListWidgetItem(record.name + ("  (video)" if record.video else ""))
            item.setData(Qt.ItemDataRole.UserRole, record.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            chosen = current is not None and record.id == current.id
            item.setCheckState(Qt.CheckState.Checked if chosen else Qt.CheckState.Unchecked)
            self.inputs.addItem(item)
        self.frames = QLineEdit("0")
        self.frames.setToolTip("frames of a video input analysed by the picture sections")
        form = QFormLayout()
        form.addRow("Video frames", self.frames)
        inner = QVBoxLayout(box)
        inner.addWidget(self.inputs)
        inner.addLayout(form)
        return box

    def _analyses_box(self) -> QGroupBox:
        box = QGroupBox("Analyses")
        grid = QVBoxLayout(box)
        self.analyses = {}
        for name, text in ANALYSES:
            if name in self.choices:  # the tab's result, with its parameters
                text = f"{text.split(' (')[0]} ({self.choices[name][1]})"
            check = QCheckBox(text)
            check.setChecked(name in DEFAULT_ON)
            self.analyses[name] = check
            grid.addWidget(check)
        if self._painted_mask() is None:
            self.analyses["paint-occlusion"].setEnabled(False)
            self.analyses["paint-occlusion"].setToolTip("paint a mask in the Occlusion tab "
                                                        "first")
        return box

    def _methods_box(self) -> QGroupBox:
        from workbench.core.attribution import METHOD_ORDER, METHODS

        box = QGroupBox("Attribution methods")
        grid = QGridLayout(box)
        self.methods = {}
        for index, name in enumerate(METHOD_ORDER):
            check = QCheckBox(METHODS[name].title)
            check.setChecked(name == "gradcam")
            self.methods[name] = check
            grid.addWidget(check, index % 7, index // 7)
        self.layer = QComboBox()
        self.layer.addItem(DEFAULT_LAYER)
        model = self.window.state.model
        for info in getattr(model, "layers", []) or []:
            if info.is_spatial:
                self.layer.addItem(info.name)
        grid.addWidget(QLabel("Layer of the CAMs"), 7, 0)
        grid.addWidget(self.layer, 7, 1)
        return box

    def _output_box(self) -> QWidget:
        box = QGroupBox("Save as")
        row = QHBoxLayout(box)
        self.path = QLineEdit(str(Path.home() / "workbench-report.pdf"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.format = QComboBox()
        self.format.addItems(FORMATS)
        self.format.currentIndexChanged.connect(lambda _i: self._fix_suffix())
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        row.addWidget(self.format)
        return box

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, "Save report", self.path.text(),
                                                "PDF (*.pdf);;HTML (*.html)")
        if chosen:
            self.path.setText(chosen)
            if chosen.lower().endswith((".html", ".htm")):
                self.format.setCurrentIndex(1)

    def _fix_suffix(self) -> None:
        path = Path(self.path.text())
        suffix = ".html" if self.format.currentIndex() == 1 else ".pdf"
        self.path.setText(str(path.with_suffix(suffix)))

    # ----------------------------------------------------------------- choices
    def _painted_mask(self):
        try:
            panel = self.window.panel("Occlusion")
        except StopIteration:
            return None
        painted = getattr(panel, "painted_mask", None)
        return painted() if painted is not None else None

    def sections(self) -> list[str]:
        chosen = [n for n, c in self.analyses.items() if c.isChecked() and c.isEnabled()]
        methods = [n for n, c in self.methods.items() if c.isChecked()]
        order = ["predict", *methods, *(n for n in chosen if n != "predict")]
        return [n for n in order if n in chosen or n in methods]

    def outputs(self) -> list[Path]:
        path = Path(self.path.text()).expanduser()
        if self.format.currentIndex() == 2:
            return [path.with_suffix(".pdf"), path.with_suffix(".html")]
        return [path.with_suffix(".html" if self.format.currentIndex() == 1 else ".pdf")]

    def chosen_records(self) -> list:
        records = self.window.inputs.records
        ids = [self.inputs.item(i).data(Qt.ItemDataRole.UserRole)
               for i in range(self.inputs.count())
               if self.inputs.item(i).checkState() == Qt.CheckState.Checked]
        return [records[i] for i in ids if i in records]

    def options(self) -> ReportOptions:
        layer = self.layer.currentText()
        frames = tuple(int(v) for v in self.frames.text().split(",") if v.strip().isdigit())
        adopted = {}
        for overrides, _text in self.choices.values():
            adopted.update(overrides)
        return ReportOptions(layer=None if layer == DEFAULT_LAYER else layer,
                             mask=self._painted_mask(), frames=frames or (0,), **adopted)


def request_inputs(records, shown_image=None, shown_id=None, frames=(0,)):
    """Report inputs for the chosen Inputs-dock records: files are read on the worker by
    :func:`open_inputs`; images held in memory are taken as they are."""
    from workbench.core.report import open_inputs

    inputs = []
    for record in records:
        if record.path:
            inputs += open_inputs([record.path], frames)
        else:
            image = shown_image if record.id == shown_id else record.image
            if image is not None:
                inputs.append(ReportInput(record.name, image, None))
    return inputs


def open_report_dialog(window) -> ReportDialog | None:
    """Show the dialog; on *Create report* submit the report to the model worker."""
    if window.state.model is None:
        window.state.error("Load a model before making a report")
        return None
    dialog = ReportDialog(window)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return dialog
    submit_report(window, dialog.chosen_records(), dialog.sections(), dialog.options(),
                  dialog.outputs())
    return dialog


def submit_report(window, records, sections, options, outputs):
    """Run the report on ``window.runner`` and say where it was saved."""
    from workbench.ui.report_reuse import collect_reuse

    if not records or not sections:
        window.state.error("Choose at least one input and one analysis for the report")
        return None
    model = window.state.model
    current = window.inputs.current_record()
    shown = window.state.image
    shown_id = current.id if current is not None else None
    key_input = None
    if current is not None and any(r.id == current.id for r in records):
        key_input = ReportInput(current.name, shown, current.path)
    reuse = collect_reuse(window, key_input, options)

    def job(ctx):
        from workbench.core.report import build_report
        from workbench.io.report_html import write_html
        from workbench.io.report_pdf import write_pdf

        inputs = request_inputs(records, shown, shown_id, options.frames)
        report = build_report(model, inputs, sections, options, ctx, reuse=reuse)
        for path in outputs:
            (write_pdf if path.suffix == ".pdf" else write_html)(path, report)
        return [str(p) for p in outputs]

    return window.runner.submit(
        job, name="Report", key="report",
        on_finished=lambda paths: window.state.info("Saved " + " and ".join(paths)),
        on_error=lambda message: window.state.error(f"Report failed: {message}"))
