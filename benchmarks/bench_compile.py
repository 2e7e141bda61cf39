"""The compiled fast path (issue 20): EfficientNet-Lite0 occlusion sweep and Score-CAM,
eager vs compiled in the same run after warm-up (target ≥ 1.8×), the first compile and
the cached start in fresh processes, and the FLOP/s the compiled sweep reaches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import torch

from benchmarks.common import Row, paired

MODEL = "efficientnet_lite0"
GMAC_PER_IMAGE = 0.39  # EfficientNet-Lite0 at 224²
WINDOW, STRIDE, BATCH = 32, 16, 8

_CHILD = """
import json, sys, time
start = time.perf_counter()
from workbench.core import fastpath
from workbench.core.models import load_model
model = load_model(sys.argv[1], device=sys.argv[2])
loaded = time.perf_counter()
state = fastpath.prepare(model)
print(json.dumps({"state": state, "load_s": loaded - start,
                  "prepare_s": time.perf_counter() - loaded}))
"""


def fresh_process_prepare(cache: str, device: str) -> dict:
    """Load and :func:`prepare` the model in a new interpreter using ``cache``."""
    env = {**os.environ, "WORKBENCH_CACHE_DIR": cache}
    env.pop("TORCHINDUCTOR_CACHE_DIR", None)
    out = subprocess.run([sys.executable, "-c", _CHILD, MODEL, device], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def startup_rows(device: str) -> list[Row]:
    cache = tempfile.mkdtemp(prefix="workbench-bench-inductor-")
    first = fresh_process_prepare(cache, device)
    cached = fresh_process_prepare(cache, device)
    os.environ["WORKBENCH_CACHE_DIR"] = cache  # this process starts from the warm cache too
    return [
        Row("compile: first prepare, fresh process", first["prepare_s"] * 1000,
            first["load_s"] * 1000, f"limit = loading the model; {first['state']}"),
        Row("compile: cached prepare, fresh process", cached["prepare_s"] * 1000,
            cached["load_s"] * 1000, f"limit = loading the model; {cached['state']}"),
    ]


def speed_rows(model, rounds: int) -> list[Row]:
    from workbench.core import fastpath
    from workbench.core.attribution import attribute
    from workbench.core.occlusion import OcclusionParams, occlusion_map
    from workbench.core.occlusion.sliding import grid_shape

    x = torch.rand(1, 3, *model.input_size, device=model.device)
    params = OcclusionParams(window=WINDOW, stride=STRIDE, batch_size=BATCH)
    positions = grid_shape(model.input_size, WINDOW, STRIDE)
    positions = positions[0] * positions[1]

    def sweep():
        occlusion_map(model, x, 0.5, params=params)

    def sweep_eager():
        with fastpath.eager(model):
            sweep()

    fast, slow, ratio = paired(sweep, sweep_eager, rounds=rounds, warmup=1)
    images_per_s = (positions + 1) / (fast / 1000)
    gflops = images_per_s * 2 * GMAC_PER_IMAGE
    rows = [Row(f"compiled occlusion sweep, {positions} windows, batch {BATCH}", fast, slow,
                f"limit = eager sweep; target ≤ 0.56× (≥ 1.8× faster): {1 / ratio:.2f}× "
                f"faster; {gflops:.0f} GFLOP/s reached ({images_per_s:.0f} images/s)",
                paired_ratio=ratio)]
    cam = {"max_channels": 128, "batch_size": BATCH}

    def scorecam():
        attribute(model, x, "scorecam", params=cam)

    def scorecam_eager():
        with fastpath.eager(model):
            scorecam()

    fast, slow, ratio = paired(scorecam, scorecam_eager, rounds=rounds, warmup=1)
    rows.append(Row("compiled Score-CAM, 128 channels", fast, slow,
                    f"limit = eager Score-CAM; target ≤ 0.56×: {1 / ratio:.2f}× faster",
                    paired_ratio=ratio))
    rows.append(forward_row(model))
    return rows


def forward_row(model, batch: int = BATCH, rounds: int = 10) -> Row:
    """One batch forward, compiled vs eager, and the FLOP/s each reaches."""
    from workbench.core import fastpath

    x = torch.rand(batch, 3, *model.input_size, device=model.device)
    with torch.inference_mode():
        fast, slow, ratio = paired(lambda: fastpath.forward(model, x), lambda: model.module(x),
                                   rounds=rounds, warmup=2)
    flop = batch * 2 * GMAC_PER_IMAGE
    return Row(f"forward at batch {batch}, compiled vs eager", fast, slow,
               f"{flop / fast * 1000:.0f} vs {flop / slow * 1000:.0f} GFLOP/s "
               f"({torch.get_num_threads()} threads)", paired_ratio=ratio)


def run(device: str = "cpu", rounds: int = 5) -> list[Row]:
    saved = os.environ.get("WORKBENCH_CACHE_DIR")
    try:
        return _run(device, rounds)
    finally:
        if saved is None:
            os.environ.pop("WORKBENCH_CACHE_DIR", None)
        else:
            os.environ["WORKBENCH_CACHE_DIR"] = saved


def _run(device: str, rounds: int) -> list[Row]:
    from workbench.core import fastpath
    from workbench.core.models import load_model

    rows = startup_rows(device)
    model = load_model(MODEL, device=device)
    start = time.perf_counter()
    state = fastpath.prepare(model)
    if state != "ready":
        raise RuntimeError(f"fast path not ready: {state}")
    info = fastpath.details(model)
    rows.append(Row("compile: cached prepare, this process", (time.perf_counter() - start) * 1000,
                    float("nan"), f"{state}; one graph for batch 2…{info.max_batch}"))
    return rows + speed_rows(model, rounds)


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
