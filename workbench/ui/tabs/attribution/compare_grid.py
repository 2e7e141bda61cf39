"""Methods × layers comparison grid, filled progressively, each cell with its
deletion / insertion scores."""

from __future__ import annotations

from functools import partial

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.tabs.attribution.jobs import grid_job
from workbench.ui.widgets.overlay_view import OverlayView

MIN_CELL = 96  # below this the grid scrolls instead of shrinking
DEFAULT_GRID_METHODS = ("gradcam", "gradcam++", "layercam", "eigencam")


def fill_checklist(widget: QListWidget, items, checked) -> None:
    widget.clear()
    widget.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    for value, text in items:
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, value)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if value in checked else Qt.CheckState.Unchecked)
        widget.addItem(item)


def checked_values(widget: QListWidget) -> list:
    return [widget.item(i).data(Qt.ItemDataRole.UserRole) for i in range(widget.count())
            if widget.item(i).checkState() == Qt.CheckState.Checked]


def default_grid_layers(model, count: int = 3) -> list[str]:
    """Top-level stages at distinct resolutions, ending at the default CAM layer."""
    default = model.default_cam_layer
    if default and model.layer_info(default).is_tokens:
        return _same_kind_spread(model, default, count)
    last_of_size: dict = {}
    for layer in model.layers:
        if (layer.is_spatial or layer.is_tokens) and layer.depth <= 2:
            last_of_size[layer.output_shape[2:]] = layer.name
            if layer.name == default:
                break
    names = [n for n in last_of_size.values() if n != default]
    return [*names[-(count - 1):], default] if default else names[-count:]


def _same_kind_spread(model, default: str, count: int) -> list[str]:
    """For transformers: the same module in evenly spread blocks (e.g. each block's ln_1)."""
    info = model.layer_info(default)
    twins = [layer.name for layer in model.layers
             if layer.type_name == info.type_name and layer.depth == info.depth
             and layer.name.rsplit(".", 1)[-1] == default.rsplit(".", 1)[-1]]
    twins = twins[: twins.index(default) + 1]
    step = max(1, len(twins) // count)
    return twins[::-1][::step][:count][::-1]


class CompareGrid(QWidget):
    """Pick methods and layers, press Fill; cells appear as the worker finishes them, sized
    so the whole grid fits the view, each with its deletion / insertion scores; the most
    faithful cell (lowest deletion AUC) is marked."""

    def __init__(self, state, runner, parent=None):
        super().__init__(parent)
        self.state, self.runner = state, runner
        self.method_titles: dict = {}
        self.cells: dict[tuple[int, int], tuple[OverlayView, QLabel]] = {}
        self.filled: dict[tuple[int, int], object] = {}
        self.shape = (0, 0)
        self.methods: list[str] = []
        self.layers: list[str] = []
        self.overlay_style = None
        self.target = None
        self.input_image = None
        self.methods_list = QListWidget()
        self.methods_list.setMaximumHeight(130)
        self.layers_list = QListWidget()
        self.layers_list.setMaximumHeight(130)
        self.fill_button = QPushButton("Fill grid")
        self.fill_button.setObjectName("fillGrid")
        self.fill_button.setToolTip("compute every checked method at every checked layer, with "
                                    "deletion / insertion scores")
        self.fill_button.clicked.connect(self.fill)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("stop filling; finished cells stay")
        self.stop_button.clicked.connect(self.stop)
        self.status = QLabel("Choose methods and layers, then Fill grid.")
        self.status.setWordWrap(True)
        controls = QHBoxLayout()
        for title, widget in (("Methods", self.methods_list), ("Layers", self.layers_list)):
            box = QVBoxLayout()
            box.addWidget(QLabel(title))
            box.addWidget(widget)
            controls.addLayout(box, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.fill_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        controls.addLayout(buttons)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setSpacing(4)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.grid_host)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.scroll, 1)
        self._handle = None
        state.model_changed.connect(self.set_model)

    def set_methods(self, titles: dict) -> None:
        self.method_titles = titles
        fill_checklist(self.methods_list, titles.items(), DEFAULT_GRID_METHODS)

    def set_model(self, model) -> None:
        self.layers_list.clear()
        self.clear()
        if model is None:
            return
        names = [layer.name for layer in model.layers if layer.has_grid]
        star = {model.default_cam_layer: "  ★"}
        fill_checklist(self.layers_list, [(n, n + star.get(n, "")) for n in names],
                       default_grid_layers(model))

    def clear(self) -> None:
        while self.grid.count():
            widget = self.grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.cells, self.filled, self.shape = {}, {}, (0, 0)

    def fill(self) -> None:
        model, image = self.state.job_model(), self.state.model_image()
        methods, layers = checked_values(self.methods_list), checked_values(self.layers_list)
        if model is None or image is None or not methods or not layers:
            self.status.setText("Needs a model, an image, a method and a layer.")
            return
        self.clear()
        self.methods, self.layers = methods, layers
        self._build(methods, layers)
        self.status.setText(f"Filling {len(methods)} × {len(layers)} …")
        self._handle = self.runner.submit(
            partial(grid_job, model, image, methods, layers,
                    self.state.target_class() if self.target is None else self.target),
            name="Comparison grid", key="attribution-grid",
            on_partial=self._on_cell, on_finished=self._on_done,
            on_cancelled=lambda: self.status.setText(
                f"Stopped: {len(self.filled)} cells kept."),
            on_error=self.state.error)

    def stop(self) -> None:
        if self._handle is not None:
            self.runner.cancel(self._handle)

    def _build(self, methods, layers) -> None:
        for column, layer in enumerate(layers):
            header = QLabel(f"<b>{layer}</b>")
            header.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.grid.addWidget(header, 0, column + 1)
        for row, method in enumerate(methods):
            name = QLabel(f"<b>{self.method_titles[method]}</b>")
            name.setWordWrap(True)
            self.grid.addWidget(name, row + 1, 0)
            for column in range(len(layers)):
                view = OverlayView(compact_bar=True)
                view.set_image(self.input_image)
                caption = QLabel("…")
                caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
                caption.setWordWrap(True)
                cell = QFrame()
                cell.setFrameShape(QFrame.Shape.NoFrame)
                box = QVBoxLayout(cell)
                box.setContentsMargins(2, 2, 2, 2)
                box.addWidget(view, 1)
                box.addWidget(caption)
                self.grid.addWidget(cell, row + 1, column + 1)
                self.cells[(row, column)] = (view, caption)
        self.shape = (len(methods), len(layers))
        self._fit_cells()

    def resizeEvent(self, event):  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_cells()

    def _fit_cells(self) -> None:
        """Cells as large as the view allows for the whole grid (not less than MIN_CELL)."""
        rows, columns = self.shape
        if not rows:
            return
        line = self.fontMetrics().height()
        room = self.scroll.viewport().size()
        width = (room.width() - 8 * line) // columns - 8
        height = (room.height() - 2 * line) // rows - 3 * line
        side = max(MIN_CELL, min(width, height))
        for view, _caption in self.cells.values():
            view.canvas.setFixedSize(side, side)

    def _on_cell(self, cell) -> None:
        view, caption = self.cells[(cell.row, cell.column)]
        if cell.heat is None:
            caption.setText(cell.error[:60])
            caption.setToolTip(cell.error)
            return
        self.filled[(cell.row, cell.column)] = cell
        if self.overlay_style is not None:
            view.overlay_style = self.overlay_style
        view.set_map(cell.heat, units="attribution value")
        caption.setText(f"del {cell.deletion_auc:.3f} · ins {cell.insertion_auc:.3f}")
        caption.setToolTip("deletion AUC (lower is better) · insertion AUC (higher is better)")
        self.status.setText(f"{self.method_titles[self.methods[cell.row]]} … of “{cell.label}” "
                            f"(class {cell.target}): {len(self.filled)} cells so far")

    def _on_done(self, _count) -> None:
        for (row, column), (_view, caption) in self.cells.items():
            if (row, column) not in self.filled and caption.text() == "…":
                caption.setText("input-level method (first column)")
        best = self.best_cell()
        if not self.filled:
            self.status.setText("Done: no cell could be computed.")
            return
        cell = self.filled[best]
        self._mark(best)
        self.status.setText(
            f"Done: maps of “{cell.label}” (class {cell.target}), {len(self.filled)} cells. "
            f"★ most faithful by deletion: {self.method_titles[self.methods[best[0]]]} at "
            f"{self.layers[best[1]]} (deletion AUC {cell.deletion_auc:.3f}).")

    def _mark(self, best) -> None:
        view, caption = self.cells[best]
        caption.setText("★ " + caption.text() + " · most faithful")
        frame = caption.parentWidget()
        frame.setFrameShape(QFrame.Shape.Box)
        frame.setLineWidth(3)

    def best_cell(self):
        if not self.filled:
            return None
        return min(self.filled, key=lambda key: self.filled[key].deletion_auc)

    def set_style(self, style) -> None:
        self.overlay_style = style
        for view, _caption in self.cells.values():
            view.set_style(style)

    def set_input(self, image: np.ndarray | None) -> None:
        self.input_image = image

    def figure_panels(self):
        """One export panel per filled cell, the most faithful one marked."""
        from workbench.io.figure import FigurePanel
        from workbench.io.overlay import overlay

        best = self.best_cell()
        style = self.overlay_style
        panels = []
        for (row, column), cell in sorted(self.filled.items()):
            picture = overlay(self.input_image, cell.heat, style.colormap, style.opacity,
                              style.threshold, style.scaling, "attribution value") \
                if style is not None else overlay(self.input_image, cell.heat)
            view, _caption = self.cells[(row, column)]
            mark = "★ " if (row, column) == best else ""
            panels.append(FigurePanel(
                picture, f"{mark}{self.method_titles[self.methods[row]]} · {self.layers[column]}",
                view.scale, note=f"deletion AUC {cell.deletion_auc:.3f} · insertion AUC "
                                 f"{cell.insertion_auc:.3f}"))
        return panels

    def caption(self) -> str:
        if not self.filled:
            return ""
        cell = next(iter(self.filled.values()))
        best = self.best_cell()
        return (f"Comparison grid of “{cell.label}” (class {cell.target}): methods "
                f"{', '.join(self.method_titles[m] for m in self.methods)} × layers "
                f"{', '.join(self.layers)}; most faithful by deletion AUC: "
                f"{self.method_titles[self.methods[best[0]]]} at {self.layers[best[1]]} "
                f"({self.filled[best].deletion_auc:.3f})")
