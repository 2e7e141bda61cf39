"""Train the ten motion-lesson clip models and write their weights and one metadata file.

Run ``python -m workbench.core.models.train_motion [--epochs N] [--only NAME ...]``.
Writes ``resources/models/<name>.pt`` (state dicts, e.g. ``motion_3d.pt``) and
``resources/models/motion.json`` (per model: task, architecture, held-out accuracy,
chance, the generator's settings, the held-out set's seed and size, training time).
Clips come from :mod:`workbench.core.models.motion_data` (fresh training clips every
epoch from the training digits; the held-out set from the held-out digits).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from torch.nn import functional as F

from workbench.core.models import motion
from workbench.core.models.motion_data import make_dataset, settings
from workbench.io.atomic import atomic_path, write_bytes_atomic
from workbench.resources import resource_path

HELD_OUT_SEED = 20140623
HELD_OUT_SIZE = 500
EPOCHS = 6
CLIPS_PER_EPOCH = 4000
BATCH = 64
LEARNING_RATE = 2e-3


def to_input(clips: np.ndarray) -> torch.Tensor:
    """``(N, T, S, S)`` pixel clips → normalized ``(N, 1, T, S, S)`` network input."""
    x = torch.from_numpy(np.ascontiguousarray(clips)).unsqueeze(1)
    return (x - motion.MEAN[0]) / motion.STD[0]


def targets_for(task: str, directions: np.ndarray, digits: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(directions if task == "direction" else digits)


def held_out_set(seed: int = HELD_OUT_SEED, size: int = HELD_OUT_SIZE):
    """The fixed held-out clips ``(clips, directions, digits)`` from the held-out digits."""
    return make_dataset(size, "held_out", seed)


def evaluate(net: torch.nn.Module, task: str, held_out) -> float:
    """Top-1 accuracy of ``net`` on ``held_out`` for ``task``."""
    clips, directions, digits = held_out
    net.eval()
    with torch.inference_mode():
        predicted = torch.cat([net(to_input(clips[i : i + 200])).argmax(1)
                               for i in range(0, len(clips), 200)])
    return float((predicted == targets_for(task, directions, digits)).float().mean())


def train_epoch(net, optimizer, schedule, task: str, seed: int, generator) -> float:
    """One pass over freshly generated training clips; returns the mean loss."""
    clips, directions, digits = make_dataset(CLIPS_PER_EPOCH, "train", seed)
    inputs, targets = to_input(clips), targets_for(task, directions, digits)
    net.train()
    losses = []
    order = torch.randperm(len(inputs), generator=generator)
    for start in range(0, len(order), BATCH):
        batch = order[start : start + BATCH]
        loss = F.cross_entropy(net(inputs[batch]), targets[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    return float(np.mean(losses))


def train(name: str, epochs: int = EPOCHS, seed: int = 0, held_out=None):
    """Train model ``name``; returns ``(net, held-out accuracy, seconds)``."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    _, task = motion.parse_name(name)
    net = motion.build(name)
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    steps = epochs * -(-CLIPS_PER_EPOCH // BATCH)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, LEARNING_RATE, total_steps=steps)
    began = time.perf_counter()
    for epoch in range(epochs):
        loss = train_epoch(net, optimizer, schedule, task, 1000 * seed + epoch, generator)
        print(f"  {name} epoch {epoch + 1}/{epochs}: loss {loss:.3f}", flush=True)
    seconds = time.perf_counter() - began
    accuracy = evaluate(net, task, held_out if held_out is not None else held_out_set())
    return net.eval(), accuracy, seconds


def held_out_meta() -> dict:
    return {"seed": HELD_OUT_SEED, "size": HELD_OUT_SIZE, "digits": "held_out"}


def metadata(name: str, accuracy: float, seconds: float, epochs: int, seed: int) -> dict:
    architecture, task = motion.parse_name(name)
    return {
        "task": task, "architecture": architecture,
        "description": motion.DESCRIPTIONS[architecture],
        "labels": list(motion.TASKS[task]), "held_out_accuracy": round(accuracy, 4),
        "chance": round(1 / len(motion.TASKS[task]), 4), "generator": settings(),
        "held_out": held_out_meta(),
        "training": {"epochs": epochs, "clips_per_epoch": CLIPS_PER_EPOCH, "batch": BATCH,
                     "learning_rate": LEARNING_RATE, "seed": seed,
                     "seconds": round(seconds, 1), "threads": torch.get_num_threads()},
    }


def weights_path(name: str):
    return resource_path("models", f"{name}.pt")


def meta_path():
    return resource_path("models", "motion.json")


def save(name: str, net: torch.nn.Module, meta: dict) -> None:
    """Write ``name``'s weights and merge its entry into ``motion.json`` (atomically)."""
    with atomic_path(weights_path(name)) as tmp:
        torch.save(net.state_dict(), tmp)
    path = meta_path()
    everything = json.loads(path.read_text()) if path.is_file() else {}
    everything[name] = meta
    ordered = {key: everything[key] for key in motion.MODEL_NAMES if key in everything}
    write_bytes_atomic(path, (json.dumps(ordered, indent=2, ensure_ascii=False) + "\n").encode())


def re_evaluate(names, held_out) -> None:
    """Measure the shipped weights of ``names`` again on ``held_out`` and update their
    entries (accuracy and held-out set; the training record stays)."""
    everything = json.loads(meta_path().read_text())
    for name in names:
        net = motion.build(name)
        net.load_state_dict(torch.load(weights_path(name), map_location="cpu",
                                       weights_only=True))
        accuracy = evaluate(net, motion.parse_name(name)[1], held_out)
        meta = everything[name] | {"held_out_accuracy": round(accuracy, 4),
                                   "held_out": held_out_meta()}
        save(name, net, meta)
        print(f"{name}: held-out accuracy {accuracy:.4f}", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="+", choices=motion.MODEL_NAMES, metavar="NAME",
                        help="train only these models (default: all ten)")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="re-measure the shipped weights on the held-out set, no training")
    args = parser.parse_args(argv)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    held_out = held_out_set()
    if args.evaluate_only:
        re_evaluate(args.only or motion.MODEL_NAMES, held_out)
        return
    for name in args.only or motion.MODEL_NAMES:
        net, accuracy, seconds = train(name, args.epochs, args.seed, held_out)
        save(name, net, metadata(name, accuracy, seconds, args.epochs, args.seed))
        print(f"{name}: held-out accuracy {accuracy:.4f} ({seconds:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
