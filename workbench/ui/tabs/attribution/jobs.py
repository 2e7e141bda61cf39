"""Worker jobs of the Attribution tab: plain functions over core, returning numpy only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRID_FAITHFULNESS_STEPS = 16


@dataclass
class MapResult:
    """One attribution map ready to draw (numpy only: safe to cross threads)."""

    heat: np.ndarray  # raw map at the model input resolution
    input_image: np.ndarray  # what the model saw, (H, W, 3)
    target: int
    label: str
    method: str
    layer: str | None
    top: list  # ClassScore, best first
    prob: float = float("nan")  # p(target)
    method_title: str = ""
    seconds: float = 0.0  # how long the method ran (for time estimates)
    clip_heat: np.ndarray | None = None  # a clip's whole map (T, H, W); heat shows one frame


def _probabilities(model, x, logits):
    import torch

    from workbench.core import fastpath

    if logits is None:
        with torch.inference_mode():
            logits = fastpath.forward(model, x)
    from workbench.core.predict import probabilities

    return probabilities(model, logits[:1])[0]


def _top_scores(model, probs, k=5):
    from workbench.core.predict import top_scores

    return top_scores(model, probs, k)


def map_job(model, image, method, layer, target, params, ctx) -> MapResult:
    """One map; ``image`` is a pixel array or a path to read."""
    import time

    from workbench.core.attribution import attribute, get_method
    from workbench.core.preprocess import model_input, shown_map, to_image

    if isinstance(image, str):
        from workbench.io.images import load_image

        image = load_image(image)
    x = model_input(model, image)
    targets = None if target is None else [target]
    started = time.perf_counter()
    result = attribute(model, x, method, layer=layer, targets=targets, params=params, ctx=ctx)
    seconds = time.perf_counter() - started
    chosen = result.targets[0]
    probs = _probabilities(model, x, result.logits)
    heat = result.numpy()[0]
    return MapResult(shown_map(heat), to_image(x), chosen, model.label(chosen), method,
                     result.layer, _top_scores(model, probs), float(probs[chosen]),
                     get_method(method).title, seconds, heat if heat.ndim == 3 else None)


def pair_job(model, images, method, layer, targets, params, ctx) -> list[MapResult]:
    """Two maps: the same image for two classes, or two images (``None``: each's top-1)."""
    from workbench.core.jobs import JobContext

    results = []
    for index, (image, target) in enumerate(zip(images, targets, strict=True)):
        ctx.check()
        part = JobContext(cancel_event=ctx.cancel_event)
        results.append(map_job(model, image, method, layer, target, params, part))
        ctx.progress((index + 1) / len(images), f"Map {index + 1} of {len(images)}")
    return results


def faithfulness_job(model, image, heat, target, ctx):
    import torch

    from workbench.core.attribution import faithfulness
    from workbench.core.preprocess import model_input

    x = model_input(model, image)
    return faithfulness(model, x, torch.from_numpy(heat).to(x.device), target, ctx=ctx)


@dataclass
class GridCell:
    row: int
    column: int
    heat: np.ndarray | None
    deletion_auc: float = float("nan")
    insertion_auc: float = float("nan")
    error: str = ""
    target: int = -1
    label: str = ""


def grid_job(model, image, methods, layers, target, ctx):
    """Fill methods × layers; each finished cell arrives through ``ctx.partial``."""
    from workbench.core.attribution import FaithfulnessParams, attribute, faithfulness, get_method
    from workbench.core.jobs import JobContext
    from workbench.core.preprocess import model_input, shown_map
    from workbench.errors import WorkbenchError

    x = model_input(model, image)
    cells = [(r, c) for r in range(len(methods)) for c in range(len(layers))]
    quiet = JobContext(cancel_event=ctx.cancel_event)  # per-cell progress would flicker
    params = FaithfulnessParams(steps=GRID_FAITHFULNESS_STEPS)
    for done, (row, column) in enumerate(cells):
        ctx.check()
        method = get_method(methods[row])
        if not method.needs_layer and column > 0:
            continue
        try:
            result = attribute(model, x, method.name, layer=layers[column],
                               targets=None if target is None else [target], ctx=quiet)
            score = faithfulness(model, x, result.maps[0], result.targets[0], params, quiet)
            chosen = result.targets[0]
            ctx.partial(GridCell(row, column, shown_map(result.numpy()[0]), score.deletion_auc,
                                 score.insertion_auc, "", chosen, model.label(chosen)))
        except WorkbenchError as exc:
            ctx.partial(GridCell(row, column, None, error=str(exc)))
        ctx.progress((done + 1) / len(cells), f"Comparison grid {done + 1}/{len(cells)}")
    return len(cells)
