"""Save and restore the Predict tab: how many classes it shows (the prediction itself is
computed again: one forward pass)."""

from __future__ import annotations

from workbench.ui import session_widgets as w


def capture(panel) -> tuple[dict, dict]:
    return {"topk": panel.topk.value()}, {}


def restore(panel, choices: dict, arrays: dict) -> list[str]:
    problems: list[str] = []
    w.set_value(panel.topk, choices.get("topk"), "top-k", problems)
    return problems
