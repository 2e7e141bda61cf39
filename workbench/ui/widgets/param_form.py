"""A form generated from a method's parameter dataclass (``workbench.core.params``)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from workbench.core.params import describe

INT_LIMIT = 2**31 - 1
GREY_LEVEL = 1 / 255  # a float parameter stepped by one grey level is shown in /255 units


def _grey_levels(info) -> bool:
    return info.kind is float and info.step is not None and abs(info.step - GREY_LEVEL) < 1e-9


def _editor(info):
    if info.choices:
        widget = QComboBox()
        widget.addItems([str(c) for c in info.choices])
        widget.setCurrentText(str(info.default))
        return widget, widget.currentTextChanged, widget.currentText
    if info.kind is bool:
        widget = QCheckBox()
        widget.setChecked(info.default)
        return widget, widget.toggled, widget.isChecked
    if info.kind is int:
        widget = QSpinBox()
        if info.unit and info.unit not in ("±",):
            widget.setSuffix(f" {info.unit}")
        widget.setRange(int(info.low if info.low is not None else -INT_LIMIT),
                        int(min(info.high if info.high is not None else INT_LIMIT, INT_LIMIT)))
        widget.setValue(info.default)
        return widget, widget.valueChanged, widget.value
    widget = QDoubleSpinBox()
    scale = 255.0 if _grey_levels(info) else 1.0
    widget.setDecimals(2 if scale > 1 else 3)
    widget.setRange((info.low if info.low is not None else -1e9) * scale,
                    (info.high if info.high is not None else 1e9) * scale)
    widget.setSingleStep(1.0 if scale > 1 else (info.step or 0.01))
    if scale > 1:
        widget.setSuffix(" /255")
    elif info.unit and info.unit not in ("±", "of the range"):
        widget.setSuffix(f" {info.unit}")
    widget.setValue(info.default * scale)
    return widget, widget.valueChanged, lambda: widget.value() / scale


_NOTHING_YET = object()


class ParamForm(QWidget):
    """Editors for each field; :meth:`values` returns the overrides as a dict."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._layout = QFormLayout(self)
        self._layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow columns
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._getters: dict = {}
        self.editors: dict = {}
        self.params_cls = _NOTHING_YET  # (None is a method without parameters)

    def set_params(self, params_cls) -> None:
        """Editors for ``params_cls``'s fields at their defaults; the same class again keeps
        the editors and what the user typed (panels call this on every model change)."""
        if params_cls is self.params_cls:
            return
        self.params_cls = params_cls
        while self._layout.rowCount():
            self._layout.removeRow(0)
        self._getters, self.editors = {}, {}
        infos = describe(params_cls)
        if not infos:
            self._layout.addRow(QLabel("<i>no parameters</i>"))
        for info in infos:
            widget, signal, getter = _editor(info)
            tip = f"{info.help}\ncommand line: --param {info.name}=…"
            widget.setToolTip(tip)
            signal.connect(lambda *_: self.changed.emit())
            label = QLabel(info.label[:1].upper() + info.label[1:])
            label.setToolTip(tip)
            self._layout.addRow(label, widget)
            self._getters[info.name] = getter
            self.editors[info.name] = widget

    def values(self) -> dict:
        return {name: getter() for name, getter in self._getters.items()}

    def show_field(self, name: str, shown: bool) -> None:
        """Show or hide one field's row (e.g. a setting that means nothing for this model);
        a hidden field keeps its value."""
        if name in self.editors:
            self._layout.setRowVisible(self.editors[name], shown)
