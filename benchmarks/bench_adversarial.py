"""Attack speed against its physical limit and against torchattacks (issue 8).

The limit of PGD with k steps on a batch is k bare forward + backward passes
to the input with frozen weights (what every step must compute); ours adds a
final forward (to report the result) and, without true labels, a clean one (to
find the top-1 class to leave): with a backward pass costing about two forwards,
k = 10 bounds us at 30 / 32 = 0.94× of the limit without labels and 30 / 31 =
0.97× with them.
torchattacks, when installed (``pip install torchattacks``; never a project
dependency), runs in the same process on a deep copy of the model: once with
weight gradients on, as its users load a model, and once frozen.  (It asks
``torch.autograd.grad`` for the image gradient only, so autograd skips the
weight gradients even when they are on; what it pays for them is memory.)
"""

from __future__ import annotations

import argparse
import copy

import torch
from torch.nn import functional as F

from benchmarks.common import Row, interleaved, paired

EPS, ALPHA, STEPS = 8 / 255, 2 / 255, 10


def input_passes(model, x, labels, passes: int = STEPS) -> None:
    """``passes`` × (forward, backward of the loss to the input), weights frozen."""
    for _ in range(passes):
        leaf = x.detach().requires_grad_(True)
        with torch.enable_grad():
            loss = F.cross_entropy(model.module(leaf), labels, reduction="sum")
            torch.autograd.grad(loss, leaf)


def peer_pgd(model, weights_grad: bool):
    """torchattacks' PGD on a deep copy of the pixel-space model, or None if not installed."""
    try:
        import torchattacks
    except ImportError:
        return None
    net = copy.deepcopy(model.module).eval()
    net.requires_grad_(weights_grad)
    pgd = torchattacks.PGD(net, eps=EPS, alpha=ALPHA, steps=STEPS, random_start=True)
    return lambda x, labels: pgd(x, labels)


def peer_text(model, x, labels, ours_ms, rounds) -> str:
    parts = []
    for weights_grad, what in ((True, "weights with grad, as its users run it"),
                               (False, "frozen copy")):
        peer = peer_pgd(model, weights_grad)
        if peer is None:
            return "torchattacks not installed"
        peer_ms, _, peer_ratio = paired(lambda p=peer: p(x, labels),
                                        lambda: input_passes(model, x, labels), rounds, warmup=1)
        parts.append(f"torchattacks ({what}) {peer_ms:.0f} ms = {1 / peer_ratio:.2f}× of "
                     f"the limit's throughput; ours {peer_ms / ours_ms:.2f}× faster")
    return "; ".join(parts)


def rows_for_pgd(model, device, batch, rounds):
    from workbench.core.adversarial import attack

    x = torch.rand(batch, 3, *model.input_size, device=device)
    with torch.no_grad():
        labels = model.module(x).argmax(1)
    params = {"eps": EPS, "step_size": ALPHA, "steps": STEPS}
    ours, limit, ratio = paired(lambda: attack(model, x, "pgd", params=params, labels=labels),
                                lambda: input_passes(model, x, labels), rounds, warmup=1)
    unlabelled, limit_u, ratio_u = paired(lambda: attack(model, x, "pgd", params=params),
                                          lambda: input_passes(model, x, labels), rounds,
                                          warmup=1)
    rows = [Row(f"PGD-{STEPS} batch {batch}, labels given (throughput)", ours, limit,
                f"throughput {1 / ratio:.2f}× of limit, target ≥ 0.95× (bound 0.97×)",
                peer_text(model, x, labels, ours, rounds), paired_ratio=ratio),
            Row(f"PGD-{STEPS} batch {batch}, top-1 found first", unlabelled, limit_u,
                f"throughput {1 / ratio_u:.2f}× of limit (bound 0.94×)", paired_ratio=ratio_u)]
    one, one_labels = x[:1], labels[:1]
    ours1, limit1 = interleaved(lambda: attack(model, one, "pgd", params=params),
                                lambda: input_passes(model, one, one_labels), rounds * 2)
    rows.append(Row(f"PGD-{STEPS} 1 image (latency)", ours1, limit1, "target ≤ 1.25×"))
    return rows


def row_for_sweep(model, device, batch, rounds):
    """An epsilon sweep over ``batch`` budgets vs the same attack's passes on ``batch`` images."""
    from workbench.core.adversarial import epsilon_sweep

    x = torch.rand(1, 3, *model.input_size, device=device)
    stack = x.expand(batch, -1, -1, -1).contiguous()
    with torch.no_grad():
        labels = model.module(stack).argmax(1)
    eps = [i / 255 for i in range(batch)]
    params = {"step_size": ALPHA, "steps": STEPS}
    ours, limit = interleaved(lambda: epsilon_sweep(model, x, "pgd", eps, params=params),
                              lambda: input_passes(model, stack, labels), rounds, warmup=1)
    return Row(f"PGD-{STEPS} sweep of {batch} epsilons", ours, limit,
               f"one batch: {limit / ours:.2f}× of limit, target ≥ 0.8×")


def run(device: str = "cpu", batch: int | None = None, rounds: int = 5,
        model_name="efficientnet_lite0"):
    """Rows for PGD and the epsilon sweep; ``batch`` defaults to 64 on a GPU, 8 on the CPU."""
    from workbench.core.models import load_model

    batch = batch or (8 if torch.device(device).type == "cpu" else 64)
    model = load_model(model_name, device=device)
    rows = rows_for_pgd(model, device, batch, rounds)
    rows.append(row_for_sweep(model, device, batch, rounds))
    return rows


if __name__ == "__main__":
    from benchmarks.common import print_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, help="images per batch (default: 64 on a GPU, 8 on "
                                                  "the CPU)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", default="efficientnet_lite0")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.device}")
    print_table(run(args.device, args.batch, args.rounds, args.model))
