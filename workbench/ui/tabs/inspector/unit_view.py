"""The Inspector's unit view: the selected unit of a layer (its row, column and channel),
its theoretical receptive field drawn as a box on the image the model sees, its effective
receptive field as the heat under it, and the layer's activations as a grid of channels
(a click on one opens it in Feature visualization)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QSpinBox, QWidget

from workbench.ui.tabs.featviz.channel_mosaic import ChannelMosaic
from workbench.ui.tabs.inspector.jobs import activations_job, erf_job
from workbench.ui.theme import current_theme
from workbench.ui.widgets.forms import column, form_box
from workbench.ui.widgets.overlay_view import OverlayView

ERF_UNITS = "|∂ unit / ∂ input|"
ALL_CHANNELS = -1


def breakable(name: str) -> str:
    """A dotted layer path that may wrap after each dot."""
    return name.replace(".", ".\u200b")


class InspectorUnitView:
    """Mixed into :class:`~workbench.ui.tabs.inspector.panel.InspectorPanel`."""

    # ------------------------------------------------------------------ building
    def _build_unit_views(self) -> None:
        """The receptive-field view (``rf_view`` with its ``box_item``) and the channel
        grid (``mosaic``)."""
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
