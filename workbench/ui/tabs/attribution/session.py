"""Save and restore the Attribution tab: method, layer, parameters, target, display, the
view in front, and the results shown again without recomputing: the map, the methods ×
layers grid (its cells and their deletion / insertion scores), and the two maps of the
*Two classes* and *Two images* pages."""

from __future__ import annotations

from workbench.ui import session_widgets as w

RESULT_FIELDS = ("target", "label", "method", "layer", "prob", "method_title", "seconds")
PAGES = ("classes", "images")  # the panel's attributes holding the two PairPages


def capture(panel) -> tuple[dict, dict]:
    choices = {"method": panel.current_method(), "layer": panel.layer_combo.currentData(),
               "params": panel.form.values(), "target": panel.targets.target,
               "live": panel.live.isChecked(), "display": w.style_of(panel.display),
               "view": panel.views.currentIndex()}
    arrays: dict = {}
    if panel.result is not None:
        choices["result"] = _result_json(panel.result, arrays, "")
    choices["grid"] = _capture_grid(panel.grid, arrays)
    for name in PAGES:
        choices[name] = _capture_pair(getattr(panel, name), arrays, name)
    return choices, arrays


def _result_json(result, arrays: dict, prefix: str) -> dict:
    """A :class:`MapResult` as JSON, its maps put in ``arrays`` under ``prefix``."""
    arrays[f"{prefix}heat"] = w.float32(result.heat)
    arrays[f"{prefix}input"] = w.float32(result.input_image)
    if result.clip_heat is not None:
        arrays[f"{prefix}clip_heat"] = w.float32(result.clip_heat)
    return {**{k: getattr(result, k) for k in RESULT_FIELDS}, "top": w.scores_json(result.top)}


def _result_from(saved: dict, arrays: dict, prefix: str):
    from workbench.ui.tabs.attribution.jobs import MapResult

    return MapResult(arrays[f"{prefix}heat"], arrays[f"{prefix}input"], int(saved["target"]),
                     str(saved["label"]), saved["method"], saved.get("layer"),
                     w.scores_from(saved.get("top")), float(saved.get("prob", "nan")),
                     saved.get("method_title", ""), float(saved.get("seconds", 0.0)),
                     arrays.get(f"{prefix}clip_heat"))


def _capture_grid(grid, arrays: dict) -> dict:
    from workbench.ui.tabs.attribution.compare_grid import checked_values

    saved = {"checked_methods": checked_values(grid.methods_list),
             "checked_layers": checked_values(grid.layers_list)}
    if not grid.cells:
        return saved
    cells = []
    for (row, column), (_view, caption) in sorted(grid.cells.items()):
        cell = grid.filled.get((row, column))
        if cell is not None:
            arrays[f"grid_{row}_{column}"] = w.float32(cell.heat)
            cells.append({"row": row, "column": column, "deletion": cell.deletion_auc,
                          "insertion": cell.insertion_auc, "target": cell.target,
                          "label": cell.label})
        elif caption.toolTip():  # a cell that could not be computed says why
            cells.append({"row": row, "column": column, "error": caption.toolTip()})
    saved.update(methods=list(grid.methods), layers=list(grid.layers), cells=cells,
                 status=grid.status.text(), done=grid.status.text().startswith("Done"))
    if grid.input_image is not None:
        arrays["grid_input"] = w.float32(grid.input_image)
    return saved


def _capture_pair(page, arrays: dict, name: str) -> dict:
    saved: dict = {}
    if page.mode == "classes":
        saved.update(first=w.class_index(page.first), second=w.class_index(page.second))
    else:
        saved["other"] = page.other.currentText()
    if len(page.results) == 2:
        saved["results"] = [_result_json(result, arrays, f"{name}_{i}_")
                            for i, result in enumerate(page.results)]
        saved.update(titles=[view.title.text() for view in page.views],
                     status=page.status.text())
    return saved


def restore(panel, choices: dict, arrays: dict) -> list[str]:
    problems: list[str] = []
    if not panel.methods:
        return ["no model is loaded: nothing restored"]
    with w.quiet(panel):
        w.choose_data(panel.method_combo, choices.get("method"), "method", problems)
        w.choose_layer(panel.layer_combo, choices.get("layer"), problems)
        w.set_form(panel.form, choices.get("params"), problems)
        panel.live.setChecked(bool(choices.get("live", True)))
        w.set_style(panel.display, choices.get("display"), problems)
        target = choices.get("target")
        if target is not None and not 0 <= int(target) < len(panel.targets.labels):
            problems.append(f"target class {target} does not exist in this model")
            target = None
        panel.targets.choose(target, emit=False)
        panel.grid.target = target
        panel.views.setCurrentIndex(int(choices.get("view", 0) or 0))
        _restore_map(panel, choices.get("result"), arrays, problems)
        _restore_grid(panel, choices.get("grid"), arrays, problems)
        for name in PAGES:
            _restore_pair(panel, getattr(panel, name), choices.get(name), arrays, name,
                          problems)
    return problems


def _readable(saved: dict, arrays: dict, prefix: str) -> bool:
    return f"{prefix}heat" in arrays and f"{prefix}input" in arrays and "target" in saved


def _restore_map(panel, saved: dict | None, arrays: dict, problems: list[str]) -> None:
    if not saved:
        return
    if not _readable(saved, arrays, ""):
        problems.append("the map could not be read: press Run to compute it again")
        return
    if saved.get("method") not in panel.methods:
        problems.append(f"the map's method '{saved.get('method')}' is not available")
        return
    panel._show(panel.state.model, _result_from(saved, arrays, ""))
    w.keep_result(panel)


def _restore_grid(panel, saved: dict | None, arrays: dict, problems: list[str]) -> None:
    if not saved:
        return
    from PySide6.QtCore import Qt

    grid = panel.grid
    for widget, key in ((grid.methods_list, "checked_methods"),
                        (grid.layers_list, "checked_layers")):
        if key in saved:
            checked = set(saved[key])
            for row in range(widget.count()):
                item = widget.item(row)
                item.setCheckState(Qt.CheckState.Checked if item.data(
                    Qt.ItemDataRole.UserRole) in checked else Qt.CheckState.Unchecked)
    methods, layers = saved.get("methods"), saved.get("layers")
    if not methods or not layers:
        return
    missing = [m for m in methods if m not in grid.method_titles]
    if missing:
        problems.append(f"the grid's method '{missing[0]}' is not available: fill it again")
        return
    from workbench.ui.tabs.attribution.jobs import GridCell

    grid.clear()
    grid.methods, grid.layers = list(methods), list(layers)
    if "grid_input" in arrays:
        grid.set_input(arrays["grid_input"])
    grid._build(grid.methods, grid.layers)
    unread = 0
    for cell in saved.get("cells", []):
        row, column = int(cell["row"]), int(cell["column"])
        if (row, column) not in grid.cells:
            continue
        if "error" in cell:
            grid._on_cell(GridCell(row, column, None, error=str(cell["error"])))
            continue
        heat = arrays.get(f"grid_{row}_{column}")
        if heat is None:
            unread += 1
            continue
        grid._on_cell(GridCell(row, column, heat, float(cell["deletion"]),
                               float(cell["insertion"]), "", int(cell["target"]),
                               str(cell["label"])))
    if unread:
        problems.append(f"{unread} cell(s) of the methods × layers grid could not be read")
    if saved.get("done") and not unread:
        grid._on_done(len(grid.cells))
    else:
        grid.status.setText(f"Restored: {len(grid.filled)} cells (Fill grid to complete it).")


def _restore_pair(panel, page, saved: dict | None, arrays: dict, name: str,
                  problems: list[str]) -> None:
    if not saved:
        return
    if page.mode == "classes":
        w.set_class(page.first, saved.get("first"), problems)
        w.set_class(page.second, saved.get("second"), problems)
    elif saved.get("other"):
        panel._on_view(panel.views.currentIndex())  # the Inputs dock's images
        index = page.other.findText(str(saved["other"]))
        if index >= 0:
            page.other.setCurrentIndex(index)
    results = saved.get("results")
    if not results:
        return
    prefixes = [f"{name}_{i}_" for i in range(len(results))]
    if len(results) != 2 or not all(_readable(r, arrays, p) for r, p in
                                    zip(results, prefixes, strict=True)):
        problems.append(f"the two maps of '{page.mode}' could not be read: press Compare")
        return
    page._show([_result_from(r, arrays, p) for r, p in zip(results, prefixes, strict=True)])
    for view, title in zip(page.views, saved.get("titles") or [], strict=False):
        view.set_title(title)
    if saved.get("status"):
        page.status.setText(saved["status"])
