"""The Inspector tab: every layer of the model in a sortable table (shapes, parameters,
MACs, memory, receptive fields, each number's formula on hover), a unit's theoretical and
effective receptive field on the image the model sees, the layer's channels for that
image, and a convolution calculator with the convolution unrolled as a matrix."""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.tabs.base import TaskPanel
from workbench.ui.tabs.featviz.channel_mosaic import ChannelMosaic
from workbench.ui.tabs.inspector.conv_page import ConvPage
from workbench.ui.tabs.inspector.jobs import activations_job, erf_job, picture_job, table_job
from workbench.ui.tabs.inspector.table_model import (
    PARAMS_COLUMN,
    ROW_ROLE,
    WHOLE_MODEL,
    ColumnFitter,
    LayerFilter,
    LayerTableModel,
    count,
    memory,
    si,
)
from workbench.ui.theme import current_theme
from workbench.ui.widgets.forms import column, form_box, split
from workbench.ui.widgets.overlay_view import OverlayView

ERF_UNITS = "|∂ unit / ∂ input|"
ALL_CHANNELS = -1


def breakable(name: str) -> str:
    """A dotted layer path that may wrap after each dot."""
    return name.replace(".", ".\u200b")


class InspectorPanel(TaskPanel):
    """Emits ``open_channel(layer, channel)`` when a channel of the activation grid is
    clicked (the window shows it in Feature visualization)."""

    title = "Inspector"
    open_channel = Signal(str, int)

    def __init__(self, state, runner, parent=None):
        super().__init__(state, runner, parent)
        self.setObjectName("InspectorPanel")
        self.table = None  # ModelTable of ``self._table_model``
        self._table_model = None
        self.picture: np.ndarray | None = None
        self.activations: np.ndarray | None = None
        self.erf: np.ndarray | None = None
        self.box: tuple | None = None
        self.layer = ""
        self.pages = QTabWidget()
        self.pages.setObjectName("inspectorPages")
        self.pages.addTab(self._build_layers_page(), "Layers")
        self.conv = ConvPage(self)
        self.pages.addTab(self.conv, "Convolution")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        state.model_changed.connect(self._on_model)
        state.image_changed.connect(self.request_refresh)

    # ------------------------------------------------------------------ building
    def _build_layers_page(self) -> QWidget:
        page = QWidget()
        self.rows = LayerTableModel(self)
        self.proxy = LayerFilter(self)
        self.proxy.setSourceModel(self.rows)
        self.view = self._build_table()
        self.search = QLineEdit()
        self.search.setObjectName("layerSearch")
        self.search.setPlaceholderText("Filter layers by name or type")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_text)
        self.totals = QLabel("Load a model to list its layers.")
        self.totals.setObjectName("inspectorTotals")
        self.totals.setWordWrap(True)
        self.rf_view = OverlayView(title="click the image: the selected unit's receptive "
                                         "field")
        self.rf_view.units = ERF_UNITS
        self.box_item = pg.PlotCurveItem(pen=pg.mkPen(current_theme().colors["bar_top"],
                                                      width=current_theme().pen_width(2)))
        self.box_item.setZValue(20)
        self.rf_view.view.addItem(self.box_item)
        self.rf_view.canvas.scene().sigMouseClicked.connect(self._image_clicked)
        self.mosaic = ChannelMosaic()
        self.mosaic.channel_clicked.connect(self._channel_clicked)
        table_area = column(self.search, (self.view, 1), self.totals)
        views = split(True, table_area, split(False, self.rf_view, self.mosaic),
                      stretch=(1, 1))
        views.setSizes([500, 500])
        self.lay_out(views, self._build_unit_controls(), host=page)
        return page

    def _build_table(self) -> QTableView:
        view = QTableView()
        view.setObjectName("layerTable")
        view.setModel(self.proxy)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.verticalHeader().setVisible(False)
        view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        view.setSortingEnabled(True)  # no column yet: the model's own order
        view.horizontalHeader().setSortIndicatorShown(True)
        view.selectionModel().currentRowChanged.connect(lambda *_a: self._on_selected())
        self.fitter = ColumnFitter(view)
        self._row_height(view)
        return view

    @staticmethod
    def _row_height(view: QTableView) -> None:
        """Rows one line high in the application's font (presentation mode too)."""
        view.verticalHeader().setDefaultSectionSize(QFontMetrics(QApplication.font()).height()
                                                    + 8)

    def _build_unit_controls(self) -> QWidget:
        self.layer_label = QLabel("–")
        self.layer_label.setObjectName("inspectorLayer")
        self.layer_label.setWordWrap(True)
        self.unit_row, self.unit_col = QSpinBox(), QSpinBox()
        self.channel = QSpinBox(minimum=ALL_CHANNELS, maximum=0, value=ALL_CHANNELS)
        self.channel.setSpecialValueText("all (sum)")
        self.channel.setToolTip("the channel whose unit is traced; 'all' sums the channels")
        for spin, name in ((self.unit_row, "row"), (self.unit_col, "column")):
            spin.setToolTip(f"the unit's {name} in the layer's output grid (or click the image)")
        for spin in (self.unit_row, self.unit_col, self.channel):
            spin.valueChanged.connect(lambda _v: self.show_unit())
        self.rf_info = QLabel("")
        self.rf_info.setObjectName("inspectorRfInfo")
        self.rf_info.setWordWrap(True)
        self.formula_info = QLabel("")
        self.formula_info.setObjectName("inspectorFormulas")
        self.formula_info.setWordWrap(True)
        unit = form_box("Unit", ("Layer", self.layer_label), ("Row", self.unit_row),
                        ("Column", self.unit_col), ("Channel", self.channel))
        return column(unit, self.rf_info, self.formula_info, (QWidget(), 1))

    # ------------------------------------------------------------------- refresh
    def _on_model(self, _model) -> None:
        self.table, self._table_model = None, None
        self.rows.set_rows([])
        self.activations = self.erf = self.box = None
        self.totals.setText("Inspecting the layers …")
        self.request_refresh()

    def refresh_now(self) -> None:
        model, image = self.state.model, self.state.model_image()
        if model is None:
            self.totals.setText("Load a model to list its layers.")
            return
        if self._table_model is not model:
            self._table_model = model
            self.runner.submit(partial(table_job, model), name="Inspecting the layers",
                               key="inspector-table", on_finished=partial(self._show_table,
                                                                          model),
                               on_error=self._on_error)
        if image is not None:
            self.runner.submit(partial(picture_job, model, image), name="Model input",
                               key="inspector-picture",
                               on_finished=partial(self._show_picture, model),
                               on_error=self._on_error)

    def _on_error(self, message: str) -> None:
        self.state.error(message)

    # --------------------------------------------------------------------- table
    def _show_table(self, model, table) -> None:
        if model is not self.state.model:
            return
        self.table = table
        self.rows.set_rows(table.rows)
        self.fitter.fit()
        t = table.totals
        self.totals.setText(
            f"Totals: {count(t['params_trainable'])} parameters + "
            f"{count(t['params_frozen'])} non-trainable (buffers) · "
            f"{si(t['macs'])} MACs · {memory(t['activation_bytes'])} of activations · "
            f"{len(table.rows)} modules, input {'×'.join(map(str, table.input_shape))} "
            f"(computed in {table.seconds:.2f} s)")
        self.choose_layer(self.first_layer(table, model))

    def first_layer(self, table, model) -> str:
        """The layer shown first: the convolution whose receptive field is nearest a third
        of the input (its box and effective field are easy to see), else the CAM layer."""
        side = min(model.input_size) / 3
        convs = [row for row in table.rows if row.rf is not None and row.kernel is not None
                 and self.grid_of(row.name) is not None]
        if not convs:
            return model.default_cam_layer or ""
        return min(convs, key=lambda row: abs(row.rf.size[-1] - side)).name

    def row_of(self, name: str):
        for row in self.rows.rows:
            if row.name == name:
                return row
        return None

    def current_layer(self) -> str | None:
        return self.layer or None

    def choose_layer(self, name: str) -> None:
        """Select the row of layer ``name`` (the Model dock's choice)."""
        for index, row in enumerate(self.rows.rows):
            if row.name == name:
                proxied = self.proxy.mapFromSource(self.rows.index(index, 0))
                if proxied.isValid():
                    self.view.setCurrentIndex(proxied)
                    self.view.scrollTo(proxied)
                return

    def selected_row(self):
        index = self.view.currentIndex()
        return self.proxy.data(index, ROW_ROLE) if index.isValid() else None

    def _on_selected(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        self.layer = row.name
        self.layer_label.setText(breakable(row.name or WHOLE_MODEL))
        self.formula_info.setText("\n".join(f"{key}: {text}" for key, text in
                                            (row.formulas or {}).items()))
        grid = self.grid_of(row.name)
        for spin, size in ((self.unit_row, grid[0] if grid else 1),
                           (self.unit_col, grid[1] if grid else 1)):
            spin.blockSignals(True)
            spin.setMaximum(max(0, size - 1))
            spin.setValue(size // 2)
            spin.setEnabled(grid is not None)
            spin.blockSignals(False)
        channels = self.channels_of(row.name)
        self.channel.blockSignals(True)
        self.channel.setMaximum(max(0, channels - 1))
        self.channel.setValue(ALL_CHANNELS)
        self.channel.blockSignals(False)
        self.show_unit()
        self.show_activations()

    # ------------------------------------------------------------- layer shapes
    def _info(self, name: str):
        model = self.state.model
        if model is None or not name:
            return None
        try:
            return model.layer_info(name)
        except Exception:  # noqa: BLE001 - a container module the layer list skips
            return None

    def grid_of(self, name: str) -> tuple[int, int] | None:
        """``(h, w)`` of the layer's output grid, ``None`` without a spatial grid."""
        info = self._info(name)
        if info is not None and info.has_grid and len(info.grid) >= 2:
            return tuple(int(v) for v in info.grid[-2:])
        return None

    def channels_of(self, name: str) -> int:
        info = self._info(name)
        return int(info.channels) if info is not None and info.has_grid else 0

    # ------------------------------------------------------------ receptive field
    def _show_picture(self, model, picture) -> None:
        if model is not self.state.model:
            return
        self.picture = picture
        self.rf_view.set_image(picture)
        self.show_unit()
        self.show_activations()

    def position(self) -> tuple[int, int]:
        return self.unit_row.value(), self.unit_col.value()

    def set_position(self, position: tuple[int, int]) -> None:
        """Choose the unit at ``position`` of the selected layer's grid and show it."""
        for spin, value in zip((self.unit_row, self.unit_col), position, strict=True):
            spin.blockSignals(True)
            spin.setValue(int(value))
            spin.blockSignals(False)
        self.show_unit()

    def _image_clicked(self, event) -> None:
        row = self.selected_row()
        grid = self.grid_of(self.layer)
        if row is None or grid is None or self.picture is None:
            return
        point = self.rf_view.image_item.mapFromScene(event.scenePos())
        self.set_position(self.unit_at(row, grid, point.y(), point.x()))

    def unit_at(self, row, grid, y: float, x: float) -> tuple[int, int]:
        """The unit of ``grid`` whose receptive field is centred nearest input ``(y, x)``."""
        h, w = self.picture.shape[:2]
        found = []
        for axis, (coord, size, extent) in enumerate(zip((y, x), grid, (h, w), strict=True)):
            if row.rf is not None:
                start = row.rf.start[-2 + axis]
                jump = row.rf.jump[-2 + axis]
                index = round((coord - start) / jump) if jump else 0
            else:
                index = int(coord * size / extent)
            found.append(int(np.clip(index, 0, size - 1)))
        return found[0], found[1]

    def show_unit(self) -> None:
        """Draw the selected unit's theoretical box and compute its effective field."""
        row, grid = self.selected_row(), self.grid_of(self.layer)
        self.erf = None
        self.rf_view.set_map(None)
        if row is None or grid is None or self.picture is None:
            self.box = None
            self.box_item.setData([], [])
            self.rf_info.setText("" if row is None else
                                 "This layer has no spatial grid: no unit to trace.")
            return
        self._draw_box(row)
        self._submit_erf()

    def _draw_box(self, row) -> None:
        from workbench.core.inspect.table import receptive_box

        model, (h, w) = self.state.model, self.picture.shape[:2]
        if row.rf is None:
            self.box = None
            self.box_item.setData([], [])
            self.rf_info.setText(f"Theoretical receptive field not defined: {row.rf_note}")
            return
        top, left, bottom, right = receptive_box(row, self.position(), tuple(model.input_size))
        self.box = (top, left, bottom, right)
        y0, y1 = np.clip([top, bottom], 0, h)
        x0, x1 = np.clip([left, right], 0, w)
        self.box_item.setData([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0])
        size = "×".join(map(str, row.rf.size[-2:]))
        self.rf_info.setText(
            f"Unit {self.position()} of {breakable(row.name)}: theoretical receptive field "
            f"{size} px; in the image: rows {top}…{bottom - 1}, columns {left}…{right - 1} "
            f"(orange box). Heat: effective receptive field {ERF_UNITS}.")

    def erf_position(self) -> tuple[int, ...] | None:
        """The unit's index in the layer's raw output grid (a clip's middle frame), or
        ``None`` where the output is not channels-first (no gradient to trace by index)."""
        from workbench.core.models.layout import CHANNELS_FIRST

        info = self._info(self.layer)
        if info is None or info.layout != CHANNELS_FIRST:
            return None
        return (*(size // 2 for size in info.grid[:-2]), *self.position())

    def _submit_erf(self) -> None:
        model, image = self.state.model, self.state.model_image()
        position = self.erf_position()
        if model is None or image is None or position is None:
            return
        channel = None if self.channel.value() == ALL_CHANNELS else self.channel.value()
        self.runner.submit(partial(erf_job, model, image, self.layer, position, channel),
                           name="Effective receptive field", key="inspector-erf",
                           on_finished=partial(self._show_erf, model, self.layer,
                                               self.position()),
                           on_error=self._on_error)

    def _show_erf(self, model, layer, position, heat) -> None:
        if model is not self.state.model or (layer, position) != (self.layer, self.position()):
            return
        self.erf = np.asarray(heat, np.float32)
        self.rf_view.set_map(self.erf, units=ERF_UNITS)
        self.rf_view.set_title(f"{layer} unit {position}: box = theoretical, heat = "
                               "effective receptive field")

    # -------------------------------------------------------------- activations
    def show_activations(self) -> None:
        model, image = self.state.model, self.state.model_image()
        if model is None or image is None or not self.channels_of(self.layer):
            self.activations = None
            self.mosaic.view.set_image(None)
            self.mosaic.view.set_scale(None)
            self.mosaic.view.set_title("this layer has no channel grid to show")
            return
        self.runner.submit(partial(activations_job, model, image, self.layer),
                           name="Layer activations", key="inspector-activations",
                           on_finished=partial(self._show_activations, model, self.layer),
                           on_error=self._on_error)

    def _show_activations(self, model, layer, activations) -> None:
        if model is not self.state.model or layer != self.layer:
            return
        self.activations = activations
        self.mosaic.show_channels(activations, layer)

    def _channel_clicked(self, channel: int) -> None:
        if self.activations is not None:
            self.open_channel.emit(self.layer, int(channel))

    # -------------------------------------------------------------------- theme
    def on_theme(self, theme) -> None:
        self.box_item.setPen(pg.mkPen(theme.colors["bar_top"], width=theme.pen_width(2)))
        self.conv.on_theme()
        self._row_height(self.view)
        self.fitter.fit()

    def sort_by_parameters(self, descending: bool = True) -> None:
        """Sort the table by trainable parameters (most first)."""
        order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        self.view.sortByColumn(PARAMS_COLUMN, order)

    def caption(self) -> str:
        model = self.state.model
        return f"{model.name}: layer {self.layer or '–'}" if model is not None else ""
