"""Small helpers the tabs' ``session.py`` modules share: read and set combo boxes,
parameter forms, display controls and class scores as plain JSON values, and keep a
panel from recomputing while its choices are being restored."""

from __future__ import annotations

import contextlib

import numpy as np


@contextlib.contextmanager
def quiet(panel):
    """While restoring, the panel's ``request_refresh`` does nothing (setting a combo would
    otherwise start a computation that overwrites the restored result)."""
    panel.request_refresh = lambda *_args: None
    try:
        yield panel
    finally:
        del panel.request_refresh


def keep_result(panel) -> None:
    """The panel shows a restored result: do not recompute it when the tab is shown."""
    panel._dirty = False


def choose_data(combo, value, what: str, problems: list[str]) -> bool:
    """Select the item of ``combo`` whose data is ``value``; a problem line if none."""
    if value is None:
        return False
    index = combo.findData(value)
    if index < 0:
        problems.append(f"{what} '{value}' is not available")
        return False
    combo.setCurrentIndex(index)
    return True


def choose_text(combo, text, what: str, problems: list[str]) -> bool:
    if text is None:
        return False
    index = combo.findText(str(text))
    if index < 0:
        problems.append(f"{what} '{text}' is not available")
        return False
    combo.setCurrentIndex(index)
    return True


def choose_layer(combo, name, problems: list[str]) -> None:
    """A :class:`LayerCombo`'s layer, or a problem line naming the missing layer."""
    if name is None:
        return
    if combo.findData(name) < 0:
        problems.append(f"layer '{name}' is not in this model")
        return
    combo.choose(name)


def set_value(widget, value, what: str, problems: list[str]) -> None:
    """A spin box's value; out of range is a problem line, not a silent clamp."""
    if value is None:
        return
    if not widget.minimum() <= value <= widget.maximum():
        problems.append(f"{what} {value} is out of range here "
                        f"({widget.minimum()}–{widget.maximum()})")
        return
    widget.setValue(value)


def set_form(form, values: dict, problems: list[str]) -> None:
    """Put ``values`` (as :meth:`ParamForm.values` gave them) back into ``form``."""
    from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox

    for name, value in (values or {}).items():
        widget = form.editors.get(name)
        if widget is None:
            problems.append(f"parameter '{name}' does not exist any more")
        elif isinstance(widget, QComboBox):
            choose_text(widget, value, f"parameter {name}", problems)
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        else:
            scale = 255.0 if isinstance(widget, QDoubleSpinBox) and \
                widget.suffix() == " /255" else 1.0
            set_value(widget, value * scale, f"parameter {name}", problems)


def style_of(display) -> dict:
    return dict(vars(display.current_style()))


def set_style(display, style: dict | None, problems: list[str]) -> None:
    """Colour map, opacity, threshold and scale of a :class:`DisplayControls`."""
    if not style:
        return
    choose_text(display.colormap, style.get("colormap"), "colour map", problems)
    display.opacity.setValue(float(style.get("opacity", display.opacity.value())))
    display.threshold.setValue(float(style.get("threshold", display.threshold.value())))
    choose_data(display.scaling, style.get("scaling"), "scale", problems)


def scores_json(scores) -> list[dict]:
    return [score.as_dict() for score in scores or []]


def scores_from(rows) -> list:
    from workbench.core.predict import ClassScore

    return [ClassScore(int(r["index"]), str(r["label"]), float(r["prob"])) for r in rows or []]


def score_from(row):
    return scores_from([row])[0] if row else None


def float32(array) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.float32)


def class_index(chooser) -> int:
    """A :class:`ClassChooser`'s class."""
    return int(chooser.index_value())


def set_class(chooser, index, problems: list[str]) -> None:
    if index is None:
        return
    if not 0 <= int(index) < chooser.count():
        problems.append(f"class {index} does not exist in this model")
        return
    chooser.setCurrentIndex(int(index))
