"""Occlusion speed (issue 4): the sweep against N forward passes at the best batch size,
Captum's ``Occlusion`` side by side, and paint-to-prediction latency in the real panel."""

from __future__ import annotations

import statistics
import time

import torch

from benchmarks.common import Row, timed

WINDOW, STRIDE = 32, 16
BATCHES = (1, 2, 4, 8, 16, 32, 64)


def best_forward_ms(model, x, batches=BATCHES, rounds=3) -> tuple[float, int]:
    """Fastest per-image forward time over batch sizes, and the batch that gave it."""
    best = (float("inf"), 1)
    for batch in batches:
        inputs = x.expand(batch, -1, -1, -1).contiguous()
        with torch.inference_mode():
            model.module(inputs)
            per_image = min(timed(lambda b=inputs: model.module(b)) for _ in range(rounds)) / batch
        best = min(best, (per_image, batch))
    return best


def sweep_rows(model, rounds: int):
    from workbench.core.occlusion import OcclusionParams, occlusion_map
    from workbench.core.occlusion.sliding import grid_shape

    x = torch.rand(1, 3, *model.input_size, device=model.device)
    rows, cols = grid_shape(model.input_size, WINDOW, STRIDE)
    positions = rows * cols
    per_image, batch = best_forward_ms(model, x)
    limit_ms = per_image * positions
    params = OcclusionParams(window=WINDOW, stride=STRIDE)
    ours = statistics.median(timed(lambda: occlusion_map(model, x, 0.5, params=params))
                             for _ in range(rounds))
    table = [Row(f"occlusion sweep, {positions} windows", ours, limit_ms,
                 f"limit = {positions} forwards at batch {batch}; target ≤ 1.3×")]
    table += captum_rows(model, x, limit_ms, ours)
    return table


def captum_rows(model, x, limit_ms, ours_ms):
    try:
        from captum.attr import Occlusion
    except ImportError:
        return []
    target = int(model.module(x).argmax())
    occlusion = Occlusion(model.module)
    rows = []
    for per_eval in (1, 64):
        def run(per_eval=per_eval):
            with torch.inference_mode():
                occlusion.attribute(x, sliding_window_shapes=(3, WINDOW, WINDOW),
                                    strides=(3, STRIDE, STRIDE), baselines=0.5, target=target,
                                    perturbations_per_eval=per_eval)
        run()
        peer = statistics.median(timed(run) for _ in range(2))
        rows.append(Row(f"  Captum Occlusion, perturbations_per_eval={per_eval}", peer,
                        limit_ms, "peer", f"ours is {peer / ours_ms:.2f}× faster"))
    return rows


def paint_latency_row(strokes: int = 20):
    """Stroke end → new prediction shown, in the real Occlusion panel, vs one forward."""
    import numpy as np

    from workbench.ui.app import make_application
    from workbench.ui.qt_env import prepare_qt_environment

    prepare_qt_environment(offscreen=True)
    app = make_application()
    from workbench.io.samples import sample_path
    from workbench.ui.main_window import MainWindow
    from workbench.ui.screenshot import wait_until_settled

    window = MainWindow(files=[str(sample_path("chelsea"))], restore=False)
    window.show()
    window.tabs.setCurrentIndex([p.title for p in window.panels].index("Occlusion"))
    wait_until_settled(app, window)
    panel = window.panels[window.tabs.currentIndex()]
    model = window.state.model
    x = torch.rand(1, 3, *model.input_size)
    latencies, forwards = [], []
    for k in range(strokes):
        mask = np.zeros((224, 224), bool)
        mask[20 + 5 * k : 90 + 5 * k, 30:180] = True
        before = panel.masked
        start = time.perf_counter()
        panel.canvas.set_mask(mask)  # what the end of a stroke does
        while panel.masked is before:
            app.processEvents()
        latencies.append((time.perf_counter() - start) * 1000)
        with torch.inference_mode():
            forwards.append(timed(lambda: model.module(x)))
    window.close()
    median, forward = statistics.median(latencies), statistics.median(forwards)
    return Row("paint: stroke end → prediction shown", median, forward,
               f"target ≤ forward + 50 ms ({forward + 50:.0f} ms); p90 "
               f"{sorted(latencies)[int(0.9 * strokes)]:.0f} ms")


def run(device: str = "cpu", rounds: int = 3):
    from workbench.core.models import load_model

    model = load_model("efficientnet_lite0", device=device)
    rows = sweep_rows(model, rounds)
    if device == "cpu":
        rows.append(paint_latency_row())
    return rows


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
