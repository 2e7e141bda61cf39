"""Save and restore the Inspector tab: the page, the filter, the selected layer and the
unit on its grid (the receptive fields are computed again: they are quick)."""

from __future__ import annotations

from workbench.ui import session_widgets as w


def capture(panel) -> tuple[dict, dict]:
    return {"page": panel.pages.currentIndex(), "filter": panel.search.text(),
            "layer": panel.layer, "position": list(panel.position()),
            "channel": panel.channel.value()}, {}


def restore(panel, choices: dict, arrays: dict) -> list[str]:
    panel.pages.setCurrentIndex(int(choices.get("page", 0) or 0))
    panel.search.setText(str(choices.get("filter", "")))
    layer = choices.get("layer")
    if not layer:
        return []
    if panel.rows.rows:
        return _select(panel, choices)
    shown = panel._show_table  # the table comes when the tab is first shown

    def then_select(model, table):
        shown(model, table)
        del panel._show_table
        problems = _select(panel, choices)
        if problems:
            panel.state.error("Session: Inspector: " + "; ".join(problems))

    panel._show_table = then_select
    return []


def _select(panel, choices: dict) -> list[str]:
    problems: list[str] = []
    layer = choices["layer"]
    if panel.row_of(layer) is None:
        return [f"layer '{layer}' is not in this model"]
    panel.choose_layer(layer)
    position = choices.get("position")
    if position and panel.grid_of(layer) is not None:
        grid = panel.grid_of(layer)
        if all(0 <= int(p) < size for p, size in zip(position, grid, strict=True)):
            panel.set_position(tuple(int(p) for p in position))
        else:
            problems.append(f"unit {tuple(position)} is outside {layer}'s grid")
    w.set_value(panel.channel, choices.get("channel"), "channel", problems)
    return problems
