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
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.ui.tabs.base import TaskPanel
from workbench.ui.tabs.inspector.conv_page import ConvPage
from workbench.ui.tabs.inspector.jobs import picture_job, table_job
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
from workbench.ui.tabs.inspector.unit_view import ALL_CHANNELS, InspectorUnitView, breakable
from workbench.ui.widgets.forms import column, split


class InspectorPanel(InspectorUnitView, TaskPanel):
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
        self._build_unit_views()
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
