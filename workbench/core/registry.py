"""Name → method tables, filled by each method's own file when it is imported."""

from __future__ import annotations

from workbench.errors import InputError


class Registry(dict):
    """A ``dict`` of named methods (attacks, attribution methods, projections).

    ``register`` is the decorator-like call each method file makes; ``named`` looks a name
    up and, for an unknown one, raises an :class:`InputError` that lists the choices.
    """

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def register(self, method):
        self[method.name] = method
        return method

    def named(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise InputError(f"unknown {self.kind} '{name}'; choose from "
                             f"{', '.join(self)}") from None
