"""Batch analyses over a dataset — Grad-CAM (with deletion / insertion AUC), occlusion,
an epsilon sweep of an attack — one result per input, on this computer or a Dask cluster.

:func:`analyse_item` is the one function that runs per input, in this process or as a Dask
task on a worker (which loads the model once, :func:`~workbench.core.remote.dataset.
worker_model`); it calls the core methods (``attribute`` + ``faithfulness``,
``occlusion_map``, ``epsilon_sweep``) and returns numpy.  :func:`run_batch` writes each
result as it arrives under ``out`` and, last, a row ``rows/STEM.json``: an input with its
row is done, and a rerun skips it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from workbench.core.jobs import JobContext, PlainContext
from workbench.core.remote.dataset import (
    check_versions,
    completed,
    host_workers,
    worker_model,
    worker_threads,
)
from workbench.errors import WorkbenchError

ANALYSES = ("cam", "occlusion", "attack")
DEFAULT_EPS = (2 / 255, 8 / 255)


@dataclass
class BatchParams:
    """What every input is analysed with."""

    method: str = "gradcam"  # attribution method (cam)
    layer: str | None = None  # CAM layer (default: the model's)
    attack: str = "fgsm"  # attack (attack)
    eps: tuple[float, ...] = DEFAULT_EPS  # budgets in pixel units (attack)
    window: int = 32  # occlusion window and stride, in input pixels
    stride: int = 16
    fill: str = "grey"


@dataclass
class BatchReport:
    """What :func:`run_batch` did; ``rows`` has one dict per finished input, in order."""

    analysis: str
    total: int = 0
    reused: int = 0
    computed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)


# ------------------------------------------------------------------ per input


def analyse_item(spec, device, analysis, one, params: BatchParams, wanted=None,
                 hosts=None) -> dict:
    """Analyse the single item of the dataset ``one``: ``{"row": …, arrays…}`` or
    ``{"error": problem}`` when it cannot be read."""
    from workbench.core.preprocess import model_input

    if wanted is not None:
        check_versions(wanted)
    model = worker_model(spec, device, worker_threads(hosts or {}))
    try:
        image = one.load(0)
    except WorkbenchError as exc:
        return {"error": str(exc)}
    x = model_input(model, image)
    return {"cam": _cam, "occlusion": _occlusion, "attack": _attack}[analysis](model, x,
                                                                              params)


def _cam(model, x, params) -> dict:
    from workbench.core.attribution import attribute, faithfulness
    from workbench.core.preprocess import to_image

    result = attribute(model, x, params.method, layer=params.layer)
    target = int(result.targets[0])
    score = faithfulness(model, x, result.maps[0], target)
    heat = result.numpy()[0].astype(np.float32)
    row = {"target": target, "label": model.label(target), "layer": result.layer or "",
           **score.as_dict()}
    return {"row": row, "map": heat, "picture": to_image(x)}


def _occlusion(model, x, params) -> dict:
    from workbench.core.occlusion.sliding import OcclusionParams, occlusion_map

    result = occlusion_map(model, x, params.fill,
                           params=OcclusionParams(params.window, params.stride))
    drop = result.drop.astype(np.float32)
    row = {"target": result.target, "label": model.label(result.target),
           "base_prob": float(result.base_probs[result.target]),
           "max_drop": float(np.nanmax(drop))}
    return {"row": row, "grid": drop}


def _attack(model, x, params) -> dict:
    from workbench.core.adversarial import epsilon_sweep, quantize_8bit
    from workbench.core.preprocess import to_image

    sweep = epsilon_sweep(model, x, params.attack, params.eps)
    adv = quantize_8bit(sweep.adversarial, x.expand_as(sweep.adversarial))
    pictures = [np.round(to_image(adv[i:i + 1]) * 255).astype(np.uint8)
                for i in range(adv.shape[0])]
    per_eps = [{"eps": float(e), "success": bool(s), "linf": float(li), "l2": float(l2),
                "top1": int(t)}
               for e, s, li, l2, t in zip(sweep.eps, sweep.success, sweep.result.linf,
                                          sweep.result.l2, sweep.top1, strict=True)]
    row = {"true_class": sweep.true_class, "label": model.label(sweep.true_class),
           "per_eps": per_eps}
    return {"row": row, "adversarial": np.stack(pictures)}


# ------------------------------------------------------------------ outputs


def stem_of(index: int, name: str) -> str:
    """A file-name stem for item ``index``: its number and a safe form of its name."""
    base = Path(name.split("#")[0]).stem if "/" in name or "\\" in name else name
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("_.")[:60] or "item"
    return f"{index:05d}_{safe}"


def row_path(out: Path, stem: str) -> Path:
    return out / "rows" / f"{stem}.json"


def eps_tag(eps: float) -> str:
    return f"eps{eps * 255:.2f}of255"


def write_item(out: Path, analysis: str, stem: str, name: str, payload: dict,
               spec: str) -> dict:
    """Write one input's results, then its row (the 'done' mark); return the row."""
    from workbench.io.atomic import save_npy_atomic, write_bytes_atomic
    from workbench.io.export import save_png

    meta = {"Software": "Workbench", "Input": name, "Model": spec, "Analysis": analysis}
    if analysis == "cam":
        from workbench.io.overlay import overlay

        save_npy_atomic(out / "maps" / f"{stem}.npy", payload["map"])
        heat = payload["map"] if payload["map"].ndim == 2 else payload["map"][0]
        save_png(out / "overlays" / f"{stem}.png",
                 overlay(payload["picture"], heat, units="attribution value"), meta)
    elif analysis == "occlusion":
        save_npy_atomic(out / "grids" / f"{stem}.npy", payload["grid"])
    else:
        for entry, picture in zip(payload["row"]["per_eps"], payload["adversarial"],
                                  strict=True):
            save_png(out / "adversarial" / f"{stem}_{eps_tag(entry['eps'])}.png", picture,
                     {**meta, "Epsilon": entry["eps"]})
    row = {"input": name, "stem": stem, **payload["row"]}
    write_bytes_atomic(row_path(out, stem), json.dumps(row).encode())
    return row


# ------------------------------------------------------------------ the run


def run_batch(analysis: str, spec: str, dataset, out, params: BatchParams | None = None,
              client=None, ctx: JobContext | None = None, device: str = "auto") -> BatchReport:
    """Analyse every input of ``dataset`` not done yet under ``out`` (on ``client``'s
    workers when given, else here with the same :func:`analyse_item`)."""
    from workbench.core.remote.cluster import versions

    if analysis not in ANALYSES:
        raise WorkbenchError(f"unknown analysis '{analysis}': choose {', '.join(ANALYSES)}")
    params, ctx, out = params or BatchParams(), ctx or PlainContext(), Path(out)
    stems = [stem_of(i, item.name) for i, item in enumerate(dataset.items)]
    report, rows = BatchReport(analysis, len(stems)), {}
    for index, stem in enumerate(stems):
        if row_path(out, stem).is_file():
            rows[index] = json.loads(row_path(out, stem).read_text())
    report.reused = len(rows)
    todo = [i for i in range(len(stems)) if i not in rows]

    def finished(index, payload):
        name = dataset.items[index].name
        if "error" in payload:
            report.failed.append((name, payload["error"]))
        else:
            rows[index] = write_item(out, analysis, stems[index], name, payload, spec)
            report.computed += 1
        done = len(rows) + len(report.failed)
        ctx.progress(done / max(1, len(stems)), f"{analysis} {done} / {len(stems)}")

    ones = {i: replace(dataset, items=[dataset.items[i]]) for i in todo}
    if client is None:
        for index in todo:
            ctx.check()
            finished(index, analyse_item(spec, device, analysis, ones[index], params))
    else:
        wanted, hosts = versions(), host_workers(client)
        futures = {client.submit(analyse_item, spec, device, analysis, ones[i], params,
                                 wanted, hosts, pure=False): i for i in todo}
        _gather(client, futures, finished, ctx)
    report.rows = [rows[i] for i in sorted(rows)]
    return report


def _gather(client, futures, finished, ctx) -> None:
    for index, result in completed(client, futures, ctx):
        finished(index, result)
