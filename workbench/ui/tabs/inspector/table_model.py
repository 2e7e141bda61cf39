"""The Layers table: one row per named module (a ``LayerRow`` of
``workbench.core.inspect.table``), numbers sortable by value, each number's formula with
this layer's values as its tooltip; a filter by name or type; column widths that always
fit the view (shrunk in proportion to what each column needs)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import QHeaderView, QTableView

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
NOT_DEFINED = "not defined"
WHOLE_MODEL = "(whole model)"


# ---------------------------------------------------------------------- formatting
def si(value: float, unit: str = "") -> str:
    """``1234567`` → ``1.23 M`` (k, M, G, T)."""
    for limit, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g} {prefix}{unit}"
    return f"{value:g} {unit}".strip() if unit else f"{value:g}"


def count(value: int) -> str:
    """``3136`` → ``3 136`` (thousands apart, the SI way)."""
    return f"{int(value):,}".replace(",", " ")


def memory(n_bytes: float) -> str:
    """Bytes in B, KiB, MiB or GiB."""
    for limit, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n_bytes >= limit:
            return f"{n_bytes / limit:.3g} {unit}"
    return f"{int(n_bytes)} B"


def axes(values) -> str:
    """A per-axis tuple as ``3×3`` (one number when every axis agrees); ``–`` if none."""
    if values is None:
        return "–"
    if isinstance(values, (int, float)):
        return f"{values:g}"
    values = tuple(values)
    if not values:
        return "–"
    if len(set(values)) == 1 and len(values) > 1:
        return f"{values[0]:g}" if isinstance(values[0], float) else str(values[0])
    return "×".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def shape(values) -> str:
    """An activation shape without its batch axis: ``32×112×112``."""
    if not values:
        return "–"
    values = tuple(values)
    return "×".join(map(str, values[1:] if len(values) > 1 else values))


def _product(values) -> float:
    if values is None:
        return -1.0
    if isinstance(values, (int, float)):
        return float(values)
    return float(math.prod(values)) if len(values) else -1.0


# ------------------------------------------------------------------------- columns
@dataclass(frozen=True)
class Column:
    header: str
    text: Callable  # row -> display text
    value: Callable  # row -> sort value (one type per column)
    formula: tuple[str, ...] = ()  # keys of ``row.formulas``, the first present is shown
    tip: str = ""  # what the column means (header tooltip)
    number: bool = True
    optional: bool = False  # hidden when the view is too narrow for every column


def _rf(part: str):
    def text(row):
        return axes(getattr(row.rf, part)) if row.rf is not None else NOT_DEFINED

    def value(row):
        return _product(getattr(row.rf, part)) if row.rf is not None else -1.0

    return text, value


def _conv(row) -> str:
    if row.kernel is None and row.stride is None:
        return "–"
    parts = (row.kernel, row.stride, row.padding, row.dilation, row.groups)
    return "·".join(axes(p) for p in parts)


COLUMNS = (
    Column("Layer", lambda r: r.name or WHOLE_MODEL, lambda r: r.name, number=False,
           tip="the module's path in named_modules()"),
    Column("Type", lambda r: r.type_name, lambda r: r.type_name, number=False),
    Column("k·s·p·d·g", _conv, lambda r: _product(r.kernel), ("kernel", "output"),
           tip="kernel · stride · padding · dilation · groups"),
    Column("Input", lambda r: shape(r.input_shape), lambda r: _product(r.input_shape),
           ("input",), tip="input shape (channels × grid, without the batch)", optional=True),
    Column("Output", lambda r: shape(r.output_shape), lambda r: _product(r.output_shape),
           ("output",), tip="output shape (channels × grid, without the batch)"),
    Column("Params", lambda r: count(r.params_trainable),
           lambda r: float(r.params_trainable), ("params", "params_trainable"),
           tip="parameters (nn.Parameter) of this module and its children"),
    Column("Buffers", lambda r: count(r.params_frozen), lambda r: float(r.params_frozen),
           ("params_frozen", "buffers", "params"),
           tip="non-trainable numbers: floating buffers such as BatchNorm running statistics",
           optional=True),
    Column("MACs", lambda r: si(r.macs), lambda r: float(r.macs), ("macs",),
           tip="multiply–accumulates for one input"),
    Column("Memory", lambda r: memory(r.activation_bytes), lambda r: float(r.activation_bytes),
           ("activation_bytes", "memory", "activation"), tip="memory of the output activation"),
    Column("RF", *_rf("size"), ("rf",), tip="theoretical receptive field size, in input pixels"),
    Column("Jump", *_rf("jump"), ("rf", "jump"), tip="input pixels between neighbouring units"),
    Column("Start", *_rf("start"), ("rf", "start"),
           tip="input coordinate of the centre of the first unit's receptive field",
           optional=True),
)
PARAMS_COLUMN = 5
NAME_COLUMN, TYPE_COLUMN = 0, 1


def formula_tip(row, column: Column) -> str:
    """The tooltip of one cell: the formula with this layer's values, or why the receptive
    field is not defined."""
    if column.formula and column.formula[0] == "rf" and row.rf is None:
        return f"receptive field not defined: {row.rf_note}" if row.rf_note else NOT_DEFINED
    formulas = row.formulas or {}
    for key in column.formula:
        if formulas.get(key):
            return f"{column.header}: {formulas[key]}"
    return column.tip


# ---------------------------------------------------------------------------- model
class LayerTableModel(QAbstractTableModel):
    """Rows of a ``ModelTable``; ``SORT_ROLE`` gives numbers to sort by, ``ROW_ROLE`` the
    ``LayerRow`` itself."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list = []

    def set_rows(self, rows) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()):  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation != Qt.Orientation.Horizontal:
            return None
        column = COLUMNS[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.header
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tip or None
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == SORT_ROLE:
            return column.value(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return formula_tip(row, column)
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.TextAlignmentRole and column.number:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class LayerFilter(QSortFilterProxyModel):
    """Sorts by value and keeps the rows whose name or type contains the search text."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.text = ""

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self.text = text.strip().lower()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row, source_parent):  # noqa: N802 - Qt override
        if not self.text:
            return True
        source = self.sourceModel()
        for column in (NAME_COLUMN, TYPE_COLUMN):
            text = source.data(source.index(source_row, column, source_parent)) or ""
            if self.text in str(text).lower():
                return True
        return False


# ----------------------------------------------------------------------------- view
def water_fill(needs: list[int], room: int, least: int = 24) -> list[int]:
    """Widths within ``room``: every column as wide as it needs when all fit, else the
    widest ones cut to one common cap (narrow number columns stay whole)."""
    if sum(needs) <= room:
        return list(needs)
    left, cap = room, max(least, room // max(1, len(needs)))
    for index, need in enumerate(sorted(needs)):
        cap = max(least, left // (len(needs) - index))
        if need > cap:
            break
        left -= need
    return [min(need, cap) for need in needs]


class ColumnFitter(QObject):
    """Refits ``view``'s columns to its viewport whenever either changes size or the
    model is reset, so no column ever needs sideways scrolling (the last one stretches)."""

    def __init__(self, view: QTableView):
        super().__init__(view)
        self.view = view
        view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched, event):  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def fit(self) -> None:
        """Every column whole when they all fit; else the optional ones hidden, the layer
        names given up to a third of the width and the widest of the rest cut."""
        view, header = self.view, self.view.horizontalHeader()
        if not header.count():
            return
        room = max(1, view.viewport().width() - 2)
        needs = [max(view.sizeHintForColumn(i), header.sectionSizeHint(i))
                 for i in range(header.count())]
        crowded = sum(needs) > room
        for i, column in enumerate(COLUMNS):
            header.setSectionHidden(i, crowded and column.optional)
        shown = [i for i in range(header.count()) if not header.isSectionHidden(i)]
        first = min(needs[shown[0]], room // 3) if crowded else needs[shown[0]]
        rest = water_fill([needs[i] for i in shown[1:]], room - first)
        for i, width in zip(shown[:-1], [first, *rest][:-1], strict=True):
            header.resizeSection(i, width)
