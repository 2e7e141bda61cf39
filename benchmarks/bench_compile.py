"""The compiled fast path (issue 20), EfficientNet-Lite0, every figure beside its eager
limit measured in the same run (interleaved with :func:`benchmarks.common.paired`):

* startup — the first build in a fresh process with an empty cache, the cached prepare
  (load + check) in a fresh process, and the cached prepare in this process;
* forward-bound jobs, compiled vs eager after warm-up (target ≥ 1.8× faster each): the
  occlusion sweep, Score-CAM, feature extraction (decoding and resizing included) and
  per-frame video classification (decoding included);
* Captum's ``Occlusion`` at its fastest ``perturbations_per_eval`` vs the compiled sweep
  with the same window and stride (target ≥ 1.8× faster);
* where the time goes: GFLOP/s of the compiled and the eager forward at batch 8 beside
  the machine's own reach (a 2048³ float32 matmul);
* gradient work, measured before choosing: an input gradient (saliency) eager vs a
  ``torch.compile``d copy of the network (inductor), and how far the gradients differ.

``python -m benchmarks.run --only compile`` (the window's stall while it compiles is
:mod:`benchmarks.bench_compile_stall`).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

from benchmarks.common import Row, paired, timed

MODEL = "efficientnet_lite0"
GMAC_PER_IMAGE = 0.39  # EfficientNet-Lite0 at 224²
WINDOW, STRIDE, BATCH = 32, 16, 8
TARGET = "target ≥ 1.8× faster"
PER_EVALS = (1, 8, 16, 64)  # Captum's perturbations_per_eval tried
IMAGES, FRAME_EVERY = 48, 5  # feature extraction images; bikes.mp4 every 5th frame (50)
MATMUL_N = 2048

_CHILD = """
import json, sys, time
start = time.perf_counter()
from workbench.core import fastpath
from workbench.core.models import load_model
model = load_model(sys.argv[1], device=sys.argv[2])
loaded = time.perf_counter()
state = fastpath.prepare(model, enabled=True)
prepared = time.perf_counter()
entry = fastpath.details(model)
facts = {} if entry is None else {**entry.facts, "entry_load_s": entry.load_s}
print(json.dumps({"state": state, "load_s": loaded - start, "prepare_s": prepared - loaded,
                  "facts": facts}, default=str))
"""


# ------------------------------------------------------------------------ startup


def fresh_process_prepare(cache: str, device: str) -> dict:
    """Load and ``prepare`` the model in a new interpreter using the cache ``cache``."""
    env = {**os.environ, "WORKBENCH_CACHE_DIR": cache, "WORKBENCH_COMPILE": "1"}
    env.pop("TORCHINDUCTOR_CACHE_DIR", None)  # inductor's kernels start empty too
    out = subprocess.run([sys.executable, "-c", _CHILD, MODEL, device], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _facts_text(facts: dict) -> str:
    parts = []
    if "build_s" in facts:
        parts.append(f"build {facts['build_s']:.1f} s")
    if "entry_load_s" in facts:
        parts.append(f"load + check {facts['entry_load_s']:.2f} s")
    if "logit_diff" in facts:
        parts.append(f"logit diff {facts['logit_diff']:.1e}")
    return ", ".join(parts)


def startup_rows(device: str) -> list[Row]:
    """First build and cached prepare in fresh processes; leaves this process on the cache."""
    cache = tempfile.mkdtemp(prefix="workbench-bench-fastpath-")
    first = fresh_process_prepare(cache, device)
    cached = fresh_process_prepare(cache, device)
    os.environ["WORKBENCH_CACHE_DIR"] = cache  # this process starts from the warm cache too
    return [
        Row("compile: first build, fresh process, empty cache", first["prepare_s"] * 1000,
            first["load_s"] * 1000, f"limit = loading the model; {first['state']}; "
            f"{_facts_text(first['facts'])}"),
        Row("compile: cached prepare, fresh process", cached["prepare_s"] * 1000,
            cached["load_s"] * 1000, f"limit = loading the model; target < 1 s; "
            f"{cached['state']}; {_facts_text(cached['facts'])}"),
    ]


def this_process_row(device: str):
    """``(model, row)``: the model loaded and prepared from the cache in this process."""
    from workbench.core import fastpath
    from workbench.core.models import load_model

    start = time.perf_counter()
    model = load_model(MODEL, device=device)
    loaded = time.perf_counter()
    state = fastpath.prepare(model, enabled=True)
    prepare_ms = (time.perf_counter() - loaded) * 1000
    if state != "ready":
        raise RuntimeError(f"fast path not ready: {state}")
    entry = fastpath.details(model)
    return model, Row("compile: cached prepare, this process", prepare_ms,
                      (loaded - start) * 1000,
                      f"limit = loading the model; {state}; one package for every batch "
                      f"of {entry.plan.input_shape}, features of {entry.plan.feature_layer}")


# ------------------------------------------------------------- forward-bound jobs


def versus_eager(model, name: str, job, rounds: int, note: str = "") -> Row:
    """``job()`` compiled vs the same under ``fastpath.eager``, interleaved."""
    from workbench.core import fastpath

    def eager_job():
        with fastpath.eager(model):
            job()

    fast, slow, ratio = paired(job, eager_job, rounds=rounds, warmup=1)
    return Row(name, fast, slow, f"limit = the same job eager; {TARGET}: {1 / ratio:.2f}×"
               + (f"; {note}" if note else ""), paired_ratio=ratio)


def _occlusion(model):
    from workbench.core.occlusion import OcclusionParams, occlusion_map
    from workbench.core.occlusion.sliding import grid_shape

    x = torch.rand(1, 3, *model.input_size, device=model.device)
    params = OcclusionParams(window=WINDOW, stride=STRIDE, batch_size=BATCH)
    rows, cols = grid_shape(model.input_size, WINDOW, STRIDE)
    return x, rows * cols, lambda: occlusion_map(model, x, 0.5, params=params)


def sweep_row(model, rounds: int) -> Row:
    _, positions, sweep = _occlusion(model)
    return versus_eager(model, f"compiled occlusion sweep, {positions} windows, batch {BATCH}",
                        sweep, rounds)


def scorecam_row(model, rounds: int) -> Row:
    from workbench.core.attribution import attribute

    x = torch.rand(1, 3, *model.input_size, device=model.device)
    params = {"max_channels": 128, "batch_size": BATCH}
    return versus_eager(model, "compiled Score-CAM, 128 channels",
                        lambda: attribute(model, x, "scorecam", params=params), rounds)


def _sample_arrays(count: int) -> list[tuple[str, np.ndarray]]:
    """``count`` real photographs (the bundled samples, cycled) as uint8 RGB arrays."""
    from PIL import Image

    from workbench.io.samples import SAMPLES

    photos = [s for s in SAMPLES if s.name != "camera"]
    arrays = [np.asarray(Image.open(s.path()).convert("RGB")) for s in photos]
    return [(f"{photos[k % len(photos)].name}-{k}", arrays[k % len(arrays)])
            for k in range(count)]


def features_row(model, rounds: int) -> Row:
    from workbench.core.embedding.datasets import arrays_dataset
    from workbench.core.embedding.features import extract_features

    pairs = _sample_arrays(IMAGES)
    sizes = sorted({a.shape[:2] for _, a in pairs})

    def job():
        extract_features(model, arrays_dataset(pairs), batch_size=16)

    return versus_eager(model, f"compiled feature extraction, {IMAGES} photos, batch 16", job,
                        rounds, f"whole job: resizing {sizes[0]}…{sizes[-1]} to 224² included")


def video_row(model, rounds: int) -> Row:
    from workbench.core.video import frame_predictions
    from workbench.core.video import frames as frames_module
    from workbench.io.samples import sample_path
    from workbench.io.video import VideoReader

    path = sample_path("bikes")
    with VideoReader(path) as reader:
        indices = np.arange(0, len(reader), FRAME_EVERY)

    def job():
        frames_module._cache.clear()  # every round decodes and classifies again
        frame_predictions(model, path, indices, batch_size=16)

    return versus_eager(model, f"compiled per-frame classification, bikes.mp4 "
                        f"({len(indices)} frames)", job, rounds, "whole job: decoding included")


# ------------------------------------------------------------------------ Captum


def captum_row(model, rounds: int) -> Row:
    """Captum's Occlusion at its fastest perturbations_per_eval vs the compiled sweep."""
    try:
        from captum.attr import Occlusion
    except ImportError:
        return Row("Captum Occlusion vs compiled sweep", float("nan"), float("nan"),
                   "not measured: captum is not installed (pip install -e \".[bench]\")")
    x, positions, sweep = _occlusion(model)
    occlusion = Occlusion(model.module)
    target = int(model.module(x).argmax())

    def captum(per_eval):
        with torch.inference_mode():
            occlusion.attribute(x, sliding_window_shapes=(3, WINDOW, WINDOW),
                                strides=(3, STRIDE, STRIDE), baselines=0.5, target=target,
                                perturbations_per_eval=per_eval)

    tried = {}
    for per_eval in PER_EVALS:
        captum(per_eval)
        tried[per_eval] = timed(lambda p=per_eval: captum(p))
    best = min(tried, key=tried.get)
    fast, slow, ratio = paired(sweep, lambda: captum(best), rounds=rounds, warmup=0)
    seen = ", ".join(f"{p}: {ms:.0f} ms" for p, ms in tried.items())
    return Row(f"compiled sweep vs Captum Occlusion, {positions} windows", fast, slow,
               f"limit = Captum at its best perturbations_per_eval={best} ({seen}); "
               f"{TARGET}: {1 / ratio:.2f}×", peer="captum", paired_ratio=ratio)


# ----------------------------------------------------------------------- FLOP/s


def matmul_gflops(device, n: int = MATMUL_N, rounds: int = 5) -> tuple[float, float]:
    """``(ms, GFLOP/s)`` of an ``n``-square float32 matmul on ``device``: its reach."""
    a, b = torch.rand(n, n, device=device), torch.rand(n, n, device=device)
    torch.mm(a, b)
    ms = min(timed(lambda: torch.mm(a, b)) for _ in range(rounds))
    return ms, 2 * n ** 3 / (ms / 1000) / 1e9


def forward_rows(model, batch: int = BATCH, rounds: int = 10) -> list[Row]:
    """One batch forward compiled vs eager, the GFLOP/s each reaches, and the matmul's."""
    from workbench.core import fastpath

    x = torch.rand(batch, 3, *model.input_size, device=model.device)
    with torch.inference_mode():
        fast, slow, ratio = paired(lambda: fastpath.forward(model, x), lambda: model.module(x),
                                   rounds=rounds, warmup=2)
    matmul_ms, reach = matmul_gflops(model.device)
    flop = batch * 2 * GMAC_PER_IMAGE  # GFLOP per batch
    compiled, eager_rate = flop / fast * 1000, flop / slow * 1000
    return [
        Row(f"forward at batch {batch}, compiled vs eager", fast, slow,
            f"{compiled:.0f} vs {eager_rate:.0f} GFLOP/s = {100 * compiled / reach:.0f} % vs "
            f"{100 * eager_rate / reach:.0f} % of the matmul's reach "
            f"({torch.get_num_threads()} threads)", paired_ratio=ratio),
        Row(f"  machine's reach: float32 matmul {MATMUL_N}³", matmul_ms, float("nan"),
            f"{reach:.0f} GFLOP/s (2·n³ / t, fastest of 5)"),
    ]


# ---------------------------------------------------------------------- gradients


def _saliency(module, x, target):
    """The input gradient of ``module``'s ``target`` logits (the weights are frozen)."""
    x = x.detach().requires_grad_(True)
    logits = module(x)
    (grad,) = torch.autograd.grad(logits.gather(1, target[:, None]).sum(), x)
    return grad


def gradient_row(model, rounds: int, batch: int = BATCH) -> Row:
    """Saliency eager vs a ``torch.compile``d (inductor) copy of the network."""
    frozen = copy.deepcopy(model.module).eval().requires_grad_(False)
    compiled = torch.compile(frozen)
    x = torch.rand(batch, 3, *model.input_size, device=model.device)
    with torch.no_grad():  # not inference mode: gather saves the index for backward
        target = model.module(x).argmax(1)
    start = time.perf_counter()
    _saliency(compiled, x, target)  # the compile itself, reported apart
    compile_s = time.perf_counter() - start
    fast, slow, ratio = paired(lambda: _saliency(compiled, x, target),
                               lambda: _saliency(frozen, x, target), rounds=rounds, warmup=2)
    want, got = _saliency(frozen, x, target), _saliency(compiled, x, target)
    diff = float((got - want).abs().max() / want.abs().max().clamp_min(1e-12))
    return Row(f"input gradient (saliency), batch {batch}: torch.compile vs eager", fast, slow,
               f"limit = eager; measured, not used: {1 / ratio:.2f}× faster, max relative "
               f"gradient difference {diff:.1e}, first call (compile) {compile_s:.0f} s",
               paired_ratio=ratio)


# ------------------------------------------------------------------------- run


def run(device: str = "cpu", rounds: int = 3) -> list[Row]:
    saved = os.environ.get("WORKBENCH_CACHE_DIR")
    try:
        return _run(device, rounds)
    finally:
        if saved is None:
            os.environ.pop("WORKBENCH_CACHE_DIR", None)
        else:
            os.environ["WORKBENCH_CACHE_DIR"] = saved


def _run(device: str, rounds: int) -> list[Row]:
    rows = startup_rows(device)
    model, row = this_process_row(device)
    rows.append(row)
    rows += [sweep_row(model, rounds), scorecam_row(model, rounds),
             features_row(model, rounds), video_row(model, rounds),
             captum_row(model, max(3, rounds // 2))]
    rows += forward_rows(model)
    rows.append(gradient_row(model, rounds))
    return rows


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
