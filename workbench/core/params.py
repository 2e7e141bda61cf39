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


def param(default, *, low=None, high=None, choices=None, help: str = "", step=None):
    """A dataclass field with UI/CLI metadata."""
    meta = {"low": low, "high": high, "choices": choices, "help": help, "step": step}
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
        rows.append(ParamInfo(f.name, kind, f.default, meta.get("low"), meta.get("high"),
                              choices, meta.get("help", ""), meta.get("step")))
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
