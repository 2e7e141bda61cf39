"""Feature visualization speed (issue 5): optimization steps per second against the bare
rate of forward + backward to the input with frozen weights (same model, image size, batch,
device), the cost of the live preview, and what leaving weight gradients on would cost."""

from __future__ import annotations

import copy
import statistics
import time

import torch

from benchmarks.common import Row


def bare_step(model, x):
    leaf = x.detach().requires_grad_(True)
    with torch.enable_grad():
        model.module(leaf).sum().backward()


def steps_per_second(fn, steps: int) -> float:
    start = time.perf_counter()
    fn(steps)
    return steps / (time.perf_counter() - start)


def run(device: str = "cpu", steps: int = 30, batch: int = 1, size: int = 224, rounds: int = 5):
    from workbench.core.featureviz import Channel, visualize
    from workbench.core.models import load_model

    model = load_model("efficientnet_lite0", device=device)
    layer = model.default_cam_layer
    objective = Channel(layer, 7)
    x = torch.rand(batch, 3, size, size, device=device)

    def ours(n, **kwargs):
        for _ in visualize(model, objective, steps=n, batch=batch, size=size, **kwargs):
            pass

    def bare(n, net=model):
        for _ in range(n):
            bare_step(net, x)

    ours(3, snapshot_every=10**9)
    bare(3)
    rates = {"ours": [], "preview": [], "bare": []}
    for _ in range(rounds):
        rates["bare"].append(steps_per_second(bare, steps))
        rates["ours"].append(steps_per_second(lambda n: ours(n, snapshot_every=10**9), steps))
        rates["preview"].append(steps_per_second(
            lambda n: ours(n, snapshot_every=1), steps))  # a frame after every step
    ours_rate, preview_rate, bare_rate = (statistics.median(rates[k]) for k in
                                          ("ours", "preview", "bare"))
    # per-round ratios: each round sees the same machine speed for all three
    of_bare = statistics.median(o / b for o, b in zip(rates["ours"], rates["bare"], strict=True))
    preview_cost = 1 - statistics.median(
        p / o for p, o in zip(rates["preview"], rates["ours"], strict=True))
    unfrozen = copy.deepcopy(model)
    unfrozen.module.requires_grad_(True)
    weights_rate = steps_per_second(lambda n: bare(n, unfrozen), max(3, steps // 5))
    return [
        Row(f"featviz step ({layer}, {size} px, batch {batch})", 1000 / ours_rate,
            1000 / bare_rate, f"{ours_rate:.1f} vs {bare_rate:.1f} steps/s = "
            f"{of_bare:.2f}× of the bare rate; target ≥ 0.9×", paired_ratio=1 / of_bare),
        Row("  with a live frame after every step", 1000 / preview_rate, 1000 / ours_rate,
            f"preview costs {100 * preview_cost:.1f} % of throughput; target < 10 %",
            paired_ratio=1 / (1 - preview_cost)),
        Row("  bare step with weight gradients on", 1000 / weights_rate, 1000 / bare_rate,
            f"{weights_rate:.1f} steps/s: why the weights stay frozen"),
    ]


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
