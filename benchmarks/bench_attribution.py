"""Attribution speed against its physical limit and against pytorch-grad-cam (issue 3).

The limit of a CAM at layer L is one forward pass plus the backward pass from
the target score down to L only (frozen weights, nothing below L).  The limit
of a gradient map is forward + backward to the input with frozen weights, for
the same number of passes.  The peer runs in the same process when
``grad-cam`` is installed (``pip install grad-cam``; never a project
dependency).
"""

from __future__ import annotations

import argparse
import gc

import torch

from benchmarks.common import Row, interleaved, timed


def cam_limit(model, x, layer):
    """Forward, then backward from the top-1 score to ``layer`` and no further."""
    from workbench.core.attribution.base import capture_layer, target_scores

    with capture_layer(model, layer, with_grad=True) as capture, torch.enable_grad():
        logits = model.module(x)
        torch.autograd.grad(target_scores(logits, logits.argmax(1)).sum(), capture.activation)


def input_limit(model, x):
    leaf = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = model.module(leaf)
        torch.autograd.grad(target_scores_top1(logits), leaf)


def target_scores_top1(logits):
    return logits.gather(1, logits.argmax(1, keepdim=True)).sum()


def peer_gradcam(model, layer):
    try:
        from pytorch_grad_cam import GradCAM
    except ImportError:
        return None
    import copy

    net = copy.deepcopy(model.module)  # as its users run it: weights with gradients on
    net.requires_grad_(True)
    cam = GradCAM(model=net, target_layers=[net.net.get_submodule(layer)])
    return lambda x: cam(input_tensor=x, targets=None)


def rows_for_cams(model, device, batch, rounds):
    from workbench.core.attribution import attribute

    layer = model.default_cam_layer
    x = torch.rand(batch, 3, *model.input_size, device=device)
    one = x[:1]
    rows = []
    ours, limit = interleaved(lambda: attribute(model, x, "gradcam"),
                              lambda: cam_limit(model, x, layer), rounds, warmup=1)
    peer = peer_gradcam(model, layer)
    peer_text = ""
    if peer is not None:
        peer_ms, limit2 = interleaved(lambda: peer(x), lambda: cam_limit(model, x, layer),
                                      max(2, rounds // 2), warmup=1)
        peer_text = (f"pytorch-grad-cam {peer_ms:.0f} ms = {limit2 / peer_ms:.2f}× of the limit's "
                     f"throughput; ours is {peer_ms / ours:.1f}× faster")
    rows.append(Row(f"Grad-CAM batch {batch} (throughput)", ours, limit,
                    f"throughput {limit / ours:.2f}× of limit, target ≥ 0.8×", peer_text))
    ours1, limit1 = interleaved(lambda: attribute(model, one, "gradcam"),
                                lambda: cam_limit(model, one, layer), rounds * 4)
    rows.append(Row("Grad-CAM 1 image (latency)", ours1, limit1, "target ≤ 1.25×"))
    return rows


def rows_for_gradients(model, device, batch, rounds):
    from workbench.core.attribution import attribute

    x = torch.rand(batch, 3, *model.input_size, device=device)
    one = x[:1]
    rows = []
    ours, limit = interleaved(lambda: attribute(model, x, "saliency", targets=[0] * batch),
                              lambda: input_limit(model, x), rounds, warmup=1)
    rows.append(Row(f"saliency batch {batch}", ours, limit,
                    f"throughput {limit / ours:.2f}× of limit, target ≥ 0.8×"))
    for method, params in (("smoothgrad", {"samples": batch, "batch_size": batch}),
                           ("integrated-gradients", {"steps": batch, "batch_size": batch})):
        ours, limit = interleaved(
            lambda m=method, p=params: attribute(model, one, m, targets=[0], params=p),
            lambda: input_limit(model, x), rounds, warmup=1)
        rows.append(Row(f"{method} 1 image × {batch} passes", ours, limit,
                        f"throughput {limit / ours:.2f}× of limit, target ≥ 0.8×"))
    return rows


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def soak(model, device, calls=300):
    """Hooks and resident memory over many consecutive CAM calls."""
    from workbench.core.attribution import attribute
    from workbench.core.models.introspect import count_hooks as hook_count

    x = torch.rand(1, 3, *model.input_size, device=device)
    for _ in range(10):
        attribute(model, x, "gradcam")
    gc.collect()
    hooks, start = hook_count(model.module), rss_mb()
    elapsed = sum(timed(lambda: attribute(model, x, "gradcam")) for _ in range(calls))
    gc.collect()
    growth = rss_mb() - start
    extra = hook_count(model.module) - hooks
    return Row(f"{calls} Grad-CAM calls: RSS +{growth:.1f} MB, hooks +{extra}",
               elapsed / calls, elapsed / calls, "target: < 50 MB, 0 hooks")


def run(device: str = "cpu", batch: int = 32, rounds: int = 5, model_name="efficientnet_lite0"):
    from workbench.core.models import load_model

    model = load_model(model_name, device=device)
    rows = rows_for_cams(model, device, batch, rounds)
    rows += rows_for_gradients(model, device, batch, rounds)
    rows.append(soak(model, device))
    return rows


if __name__ == "__main__":
    from benchmarks.common import print_table

    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", default="efficientnet_lite0")
    args = parser.parse_args()
    print_table(run(args.device, args.batch, args.rounds, args.model))
