"""Method parameters declared once, as dataclasses, for the UI form and the CLI flags.

Each field carries its range, choices and help in ``metadata``::

    @dataclass
    class SmoothGradParams:
        samples: int = param(25, low=1, high=200, help="noisy copies averaged")
        noise: float = param(0.15, low=0.0, high=1.0, help="noise std, fraction of range")
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from workbench.errors import InputError

# Words (and units) for the short names parameters keep in code and on the command line.
LABELS = {
    "lr": "learning rate", "learning_rate": "learning rate", "l1": "L1 penalty",
    "l2": "L2 penalty", "tv": "total-variation penalty", "eps": "budget ε",
    "step_size": "step size", "c": "trade-off c", "kappa": "confidence margin κ",
    "pad": "padding", "jitter": "jitter", "rotate": "rotation", "scale": "scale",
    "blur_every": "blur every", "blur_sigma": "blur width σ", "n_neighbors": "neighbours",
    "min_dist": "minimum distance", "pca_dims": "PCA dimensions first", "n_epochs": "epochs",
    "max_channels": "channels used", "discard_ratio": "discard ratio",
    "head_fusion": "head fusion", "batch_size": "batch size", "min_scale": "smallest scale",
    "max_scale": "largest scale", "max_angle": "largest rotation", "preview_every":
    "preview every", "search_steps": "search rounds", "early_stop": "stop early",
    "random_start": "random start", "decay": "momentum decay μ", "parameterization":
    "image representation", "deletion_fill": "deletion fill", "insertion_start":
    "insertion start", "weighting": "channel weights",
}
UNITS = {"pad": "px", "jitter": "px", "rotate": "°", "max_angle": "°", "blur_sigma": "px",
         "window": "px", "stride": "px", "size": "px", "blur_every": "steps",
         "preview_every": "steps", "scale": "±", "noise": "of the range"}


def param(default, *, low=None, high=None, choices=None, help: str = "", step=None,
          label: str = "", unit: str = ""):
    """A dataclass field with UI/CLI metadata (``label`` and ``unit`` default to
    :data:`LABELS` and :data:`UNITS` by the field's name)."""
    meta = {"low": low, "high": high, "choices": choices, "help": help, "step": step,
            "label": label, "unit": unit}
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class ParamInfo:
    name: str
    kind: type
    default: Any
    low: Any = None
    high: Any = None
    choices: tuple | None = None
    help: str = ""
    step: Any = None
    label: str = ""
    unit: str = ""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def describe(params_cls) -> list[ParamInfo]:
    """The fields of a params dataclass as :class:`ParamInfo` rows."""
    if params_cls is None:
        return []
    rows = []
    for f in dataclasses.fields(params_cls):
        kind = type(f.default)
        meta = f.metadata
        choices = tuple(meta["choices"]) if meta.get("choices") else None
        label = meta.get("label") or LABELS.get(f.name) or f.name.replace("_", " ")
        unit = meta.get("unit") or UNITS.get(f.name, "")
        rows.append(ParamInfo(f.name, kind, f.default, meta.get("low"), meta.get("high"),
                              choices, meta.get("help", ""), meta.get("step"), label, unit))
    return rows


def validate(params) -> None:
    """Raise :class:`InputError` for a value outside its declared range or choices."""
    if params is None:
        return
    for info in describe(type(params)):
        value = getattr(params, info.name)
        if info.choices and value not in info.choices:
            raise InputError(f"{info.name} must be one of {', '.join(map(str, info.choices))}, "
                             f"not {value!r}")
        if info.low is not None and value < info.low:
            raise InputError(f"{info.name} must be at least {info.low}, not {value}")
        if info.high is not None and value > info.high:
            raise InputError(f"{info.name} must be at most {info.high}, not {value}")


def make(params_cls, overrides: dict | None = None):
    """Build ``params_cls`` with ``overrides`` (unknown names are an error) and validate it."""
    if params_cls is None:
        if overrides:
            raise InputError(f"this method takes no parameters ({', '.join(overrides)})")
        return None
    known = {f.name for f in dataclasses.fields(params_cls)}
    unknown = set(overrides or {}) - known
    if unknown:
        raise InputError(f"unknown parameter(s) {', '.join(sorted(unknown))}")
    params = params_cls(**(overrides or {}))
    validate(params)
    return params
