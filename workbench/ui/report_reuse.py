"""Results already on screen, as the ``reuse`` mapping of
:func:`~workbench.core.report.build_report`: a section that the session has computed for
the same model and the same input is drawn from it instead of being computed again.

Panels are read, never changed; every attribute is read defensively (a panel that has
nothing, or something for another model or input, gives nothing)."""

from __future__ import annotations

from workbench.core.report import reuse_key


def collect_reuse(window, current) -> dict:
    """``{(section, input key): result}`` for the input ``current`` (a
    :class:`~workbench.core.report.ReportInput`, the one shown in the window) or ``{}``."""
    model = getattr(window.state, "model", None)
    if model is None or current is None:
        return {}
    found = {}
    for collect in (_prediction, _attribution, _occlusion, _model_table):
        try:
            found.update(collect(window, model, current))
        except Exception:  # noqa: BLE001 - a panel in an unexpected state: compute instead
            continue
    return found


def _panel(window, title):
    try:
        return window.panel(title)
    except StopIteration:
        return None


def _same_model(panel, model) -> bool:
    owner = getattr(panel, "model", None) or getattr(getattr(panel, "state", None), "model",
                                                     None)
    return owner is model


def _prediction(window, model, current) -> dict:
    panel = _panel(window, "Predict")
    prediction = getattr(panel, "prediction", None)
    if prediction is None or not _same_model(panel, model):
        return {}
    return {reuse_key("predict", current): prediction}


def _attribution(window, model, current) -> dict:
    import torch

    from workbench.core.attribution import AttributionResult

    panel = _panel(window, "Attribution")
    shown = getattr(panel, "result", None)
    heat = getattr(shown, "heat", None)
    if heat is None or not _same_model(panel, model) or heat.ndim != 2:
        return {}
    if tuple(heat.shape) != tuple(model.input_size):
        return {}
    result = AttributionResult(torch.from_numpy(heat.copy())[None], [int(shown.target)],
                               shown.method, shown.layer)
    return {reuse_key(shown.method, current): result}


def _occlusion(window, model, current) -> dict:
    panel = _panel(window, "Occlusion")
    sweep = getattr(panel, "sweep", None)
    if sweep is None or not _same_model(panel, model) or sweep.done < sweep.total:
        return {}
    return {reuse_key("occlusion", current): sweep}


def _model_table(window, model, current) -> dict:
    panel = _panel(window, "Inspector")
    table = getattr(panel, "table", None)
    if table is None or getattr(panel, "_table_model", None) is not model:
        return {}
    return {reuse_key("model", current): table}
