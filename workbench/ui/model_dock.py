"""The Model dock: model picker, device picker, and the layer tree with output shapes."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QLabel,
    QMessageBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.ui import output_picker
from workbench.ui.checkpoint_dialog import CheckpointDialog
from workbench.ui.prompts_box import PromptsBox

OPEN_CHECKPOINT = "__open_checkpoint__"
NAME_ROLE = Qt.ItemDataRole.UserRole
BUILTIN_ITEMS = (
    ("efficientnet_lite0", "EfficientNet-Lite0 · ImageNet (built in)"),
    ("digits_lenet", "LeNet · digits (built in)"),
    ("clip:ViT-B-32", "CLIP ViT-B-32 · zero-shot, typed prompts (download)"),
)


def format_count(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.1f} M"
    if n >= 1_000:
        return f"{n / 1e3:.1f} k"
    return str(n)


def layout_tip(layer) -> str:
    from workbench.core.models.layout import CHANNELS_LAST, TOKENS

    grid = "×".join(map(str, layer.grid))
    if layer.layout == CHANNELS_LAST:
        return f"channels-last: {layer.channels} channels on a {grid} grid"
    if layer.layout == TOKENS:
        return f"tokens: {layer.channels} channels on a {grid} grid"
    if layer.layout is None and layer.output_shape and len(layer.output_shape) > 2:
        return "layout unknown: maps and channel pictures cannot be drawn from this layer"
    return ""


def load_job(spec, device, download, options, ctx):
    """Worker job: load a model; a question for the user comes back as a result, not an error."""
    from workbench.core.models import load_model
    from workbench.errors import (
        ArchitectureNeededError,
        CodeNeededError,
        UntrustedPickleError,
        WeightsNotCachedError,
    )

    try:
        return load_model(spec, device=device, download=download, checkpoint=options, ctx=ctx)
    except (WeightsNotCachedError, UntrustedPickleError, ArchitectureNeededError,
            CodeNeededError) as exc:
        return exc


def catalogue_job(ctx):
    """Worker job: the model list and the devices (this is where torch gets imported)."""
    from workbench.core.device import available_devices
    from workbench.core.models import available_models

    ctx.progress(0.1, "Listing models")
    return available_models(), available_devices()


class ModelDock(QDockWidget):
    """Loads models on the worker and shows the loaded model's layers."""

    layer_activated = Signal(str)

    def __init__(self, state, runner, parent=None):
        super().__init__("Model", parent)
        self.setObjectName("ModelDock")
        self.state, self.runner = state, runner
        self.listings: dict[str, object] = {}
        self.ask = self._ask_dialog  # replaced in tests
        self.pick_checkpoint = self._pick_checkpoint_dialog
        self._current_spec = ""
        self._loaded = ("", None)  # spec and options of the model in use, to reload it
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("modelCombo")
        self.model_combo.setMaxVisibleItems(24)
        self.model_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(8)
        for spec, text in BUILTIN_ITEMS:
            self.model_combo.addItem(text, spec)
        self.model_combo.insertSeparator(self.model_combo.count())
        self.model_combo.addItem("Open checkpoint…", OPEN_CHECKPOINT)
        self.model_combo.activated.connect(self._on_model_chosen)
        self.device_combo = QComboBox()
        self.device_combo.setObjectName("deviceCombo")
        self.device_combo.addItem("cpu")
        self.device_combo.activated.connect(self._on_device_chosen)
        self.info = QLabel("No model loaded")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tree = QTreeWidget()
        self.tree.setObjectName("layerTree")
        self.tree.setHeaderLabels(["Layer", "Output", "Params", "Type"])
        self.tree.setToolTip("click a layer to use it in the tab in front")
        self.tree.setAlternatingRowColors(True)
        self.tree.currentItemChanged.connect(self._on_layer_item)
        form = QFormLayout()
        form.addRow("Model", self.model_combo)
        form.addRow("Device", self.device_combo)
        self.output_picker = output_picker.OutputPicker()  # shown for several (N, K) outputs
        self.output_picker.chosen.connect(self._on_output_chosen)
        form.addRow(self.output_picker)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addWidget(self.info)
        self.prompts = PromptsBox(state, runner)  # shown for a clip: model
        layout.addWidget(self.prompts)
        layout.addWidget(self.tree, 1)
        self.setWidget(body)
        state.model_changed.connect(self._show_model)

    # --------------------------------------------------------------- catalogue
    def refresh_catalogue(self) -> None:
        self.runner.submit(catalogue_job, name="Importing PyTorch", key="catalogue",
                           on_finished=self._on_catalogue, on_error=self.state.error)

    def _on_catalogue(self, result) -> None:
        listings, devices = result
        self.listings = {row.name: row for row in listings}
        keep = self.model_combo.currentData()
        insert_at = self.model_combo.findData(OPEN_CHECKPOINT) - 1
        for row in listings:
            if self.model_combo.findData(row.name) >= 0:
                continue
            suffix = "" if row.offline else " (download)"
            self.model_combo.insertItem(insert_at, f"{row.name} · {row.kind}{suffix}", row.name)
            insert_at += 1
        self._select_combo(keep)
        current = self.device_combo.currentText()
        self.device_combo.clear()
        self.device_combo.addItems(devices)
        if current in devices:
            self.device_combo.setCurrentText(current)

    # ------------------------------------------------------------------ loading
    def load(self, spec: str, download: bool = False, options=None) -> None:
        """Load ``spec`` on the worker; the current model stays until the new one is ready."""
        device = self.device_combo.currentText() or "cpu"
        remembered = None
        if options is None or options.output is None:
            remembered = output_picker.remembered_output(spec)
            if remembered:
                options = replace(options or self._default_options(), output=remembered)
        self.state.model_loading.emit(spec)
        self.runner.submit(
            partial(load_job, spec, device, download, options),
            name=f"Loading {spec}",
            key="load-model",
            on_finished=partial(self._on_loaded, spec, options),
            on_error=partial(self._on_load_error, spec, download, options, remembered),
        )

    def _on_output_chosen(self, name: str) -> None:
        """Reload the model in use with another of its outputs as the score; remember it."""
        spec, options = self._loaded
        if spec:
            output_picker.remember_output(spec, name)
            self.load(spec, options=replace(options or self._default_options(), output=name))

    def _on_loaded(self, spec, options, result) -> None:
        from workbench.errors import (
            ArchitectureNeededError,
            CodeNeededError,
            UntrustedPickleError,
            WeightsNotCachedError,
        )

        if isinstance(result, WeightsNotCachedError):
            choice = self.ask("Download weights?", f"{result}\n\nDownload them now?",
                              ["Download", "Random weights", "Cancel"])
            if choice == "Download":
                self.load(spec, download=True)
            elif choice == "Random weights":
                self.load(f"{spec}:random")
            else:
                self._select_combo(self._current_spec)
            return
        if isinstance(result, UntrustedPickleError):
            choice = self.ask("Trust this file?", str(result), ["I trust this file", "Cancel"])
            if choice == "I trust this file":
                options = options or self._default_options()
                options.trust = True
                self.load(spec, options=options)
            else:
                self._select_combo(self._current_spec)
            return
        if isinstance(result, (ArchitectureNeededError, CodeNeededError)):
            trusted = isinstance(result, CodeNeededError)  # asked only after trusting the file
            options = self.pick_checkpoint(spec, str(result))
            if options is not None:
                options.trust = options.trust or trusted
                self.load(spec, options=options)
            else:
                self._select_combo(self._current_spec)
            return
        self._current_spec = spec
        self._loaded = (spec, options)
        self.state.set_model(result)
        self.state.info(f"Loaded {result.name} on {result.device}")

    def _on_load_error(self, spec, download, options, remembered, message: str) -> None:
        if remembered and f"no output '{remembered}'" in message:  # the file has changed
            output_picker.remember_output(spec, None)
            self.load(spec, download, replace(options, output=None))
            return
        self.state.error(message)
        self.output_picker.show_model(self.state.model)  # back to the output in use
        self._select_combo(self._current_spec)

    @staticmethod
    def _default_options():
        from workbench.core.models.checkpoint import CheckpointOptions

        return CheckpointOptions()

    def _on_model_chosen(self, index: int) -> None:
        spec = self.model_combo.itemData(index)
        if spec == OPEN_CHECKPOINT:
            path, _ = QFileDialog.getOpenFileName(
                self, "Open checkpoint", "", "PyTorch checkpoints (*.pt *.pth *.ckpt *.ts *.jit);;"
                "All files (*)")
            if path:
                self._add_checkpoint_item(path)
                self.load(path)
            else:
                self._select_combo(self._current_spec)
            return
        if spec and spec != self._current_spec:
            self.load(spec)

    def _add_checkpoint_item(self, path: str) -> None:
        from pathlib import Path

        if self.model_combo.findData(path) < 0:
            zoo = path.split(":", 1)[0] in ("timm", "hf", "clip")
            self.model_combo.insertItem(0, path if zoo else f"{Path(path).name} · checkpoint",
                                        path)

    def _on_device_chosen(self, _index: int) -> None:
        if self._current_spec:
            self.load(self._current_spec)

    def _select_combo(self, spec: str) -> None:
        index = self.model_combo.findData(spec)
        if index < 0 and spec.endswith(":random"):
            index = self.model_combo.findData(spec.removesuffix(":random"))
        if index >= 0:
            self.model_combo.setCurrentIndex(index)

    def _ask_dialog(self, title: str, text: str, buttons: list[str]) -> str:
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        made = {box.addButton(b, QMessageBox.ButtonRole.AcceptRole): b for b in buttons}
        box.exec()
        return made.get(box.clickedButton(), buttons[-1])

    def _pick_checkpoint_dialog(self, path: str, reason: str):
        dialog = CheckpointDialog(path, reason, list(self.listings) or None, self)
        return dialog.options() if dialog.exec() else None

    # -------------------------------------------------------------- layer tree
    def _show_model(self, model) -> None:
        self.tree.clear()
        self.output_picker.show_model(model)
        if model is None:
            self.info.setText("No model loaded")
            return
        if self.model_combo.findData(model.name) < 0 and self.model_combo.findData(
                model.name.removesuffix(":random")) < 0:  # a checkpoint, or a zoo name typed
            self._add_checkpoint_item(model.name)
        self._current_spec = model.name
        self._select_combo(model.name)
        h, w = model.input_size
        frames = f"{model.num_frames} frames × " if model.kind == "video" else ""
        what = {"detection": "detector", "segmentation": "segmenter"}.get(
            getattr(model, "task", ""), "classifier")
        self.info.setText(
            f"<b>{model.name}</b> · {model.kind} {what} · input {frames}{h}×{w} · "
            f"{model.num_classes} {'labels (multi-label)' if model.multi_label else 'classes'}"
            f"{f' · output {model.output}' if model.output else ''} · {model.device}"
            f"<br><small>{model.source}</small>"
        )
        self._fill_tree(model)

    def _fill_tree(self, model) -> None:
        items: dict[str, QTreeWidgetItem] = {}
        bold = QFont(self.tree.font())
        bold.setBold(True)
        for layer in model.layers:
            parent_name = layer.name.rpartition(".")[0]
            parent = items.get(parent_name, self.tree.invisibleRootItem())
            shape = "×".join(map(str, layer.output_shape[1:])) if layer.output_shape else "–"
            item = QTreeWidgetItem(parent, [layer.name.rpartition(".")[2], shape,
                                            format_count(layer.num_params), layer.type_name])
            item.setData(0, NAME_ROLE, layer.name)
            item.setToolTip(0, layer.name)
            item.setToolTip(1, layout_tip(layer))
            if layer.name == model.default_cam_layer:
                item.setText(0, item.text(0) + "  ★")
                item.setToolTip(0, f"{layer.name} — default layer for class activation maps")
                for column in range(4):
                    item.setFont(column, bold)
            items[layer.name] = item
        self.fit_columns()

    def fit_columns(self) -> None:
        """Layer, Output and Params fit the dock; Type, last, takes what is left."""
        for column in (0, 1, 2):
            self.tree.resizeColumnToContents(column)
        limit = 12 * self.tree.fontMetrics().averageCharWidth() + 40
        self.tree.setColumnWidth(0, min(self.tree.columnWidth(0), limit))

    def needed_width(self) -> int:
        """Dock width that shows Layer, Output and Params whole."""
        columns = sum(self.tree.columnWidth(c) for c in (0, 1, 2))
        bar = self.tree.verticalScrollBar().sizeHint().width()
        return columns + bar + 2 * self.tree.frameWidth() + 24

    def show_layer(self, name: str | None) -> None:
        """Highlight the layer the tab in front uses."""
        self._select_layer(name)

    def _select_layer(self, name: str) -> None:
        items = self.tree.findItems("*", Qt.MatchFlag.MatchWildcard | Qt.MatchFlag.MatchRecursive)
        for item in items:
            if item.data(0, NAME_ROLE) == name:
                self.tree.blockSignals(True)
                self.tree.setCurrentItem(item)
                self.tree.blockSignals(False)
                self.tree.scrollToItem(item)
                return

    def _on_layer_item(self, current, _previous) -> None:
        if current is not None:
            self.layer_activated.emit(current.data(0, NAME_ROLE))
