"""Train the built-in ``digits_lenet`` on scikit-learn's digits and write its weights.

Run ``python -m workbench.core.models.train_digits``.  Writes
``resources/models/digits_lenet.pt`` (a state dict) and ``digits_lenet.json``
(held-out accuracy and the split), then prints the held-out accuracy.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from torch.nn import functional as F

from workbench.core.models.digits_data import HELD_OUT_FRACTION, SPLIT_SEED, digits_split
from workbench.core.models.lenet import INPUT_SIZE, MEAN, STD, DigitsLeNet
from workbench.resources import resource_path


def to_input(images8: np.ndarray) -> torch.Tensor:
    """``(N, 8, 8)`` digits in [0, 1] → normalized ``(N, 1, 32, 32)`` network input."""
    x = torch.from_numpy(images8).unsqueeze(1)
    x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
    return (x - MEAN[0]) / STD[0]


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random shifts of up to 3 px and scales of ±10 % (digits are not centred perfectly)."""
    n = x.shape[0]
    scale = 1 + (torch.rand(n, generator=generator) - 0.5) * 0.2
    shift = (torch.rand(n, 2, generator=generator) - 0.5) * (6 / INPUT_SIZE) * 2
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = scale
    theta[:, 1, 1] = scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    background = -MEAN[0] / STD[0]
    return F.grid_sample(x - background, grid, align_corners=False) + background


def evaluate(net: DigitsLeNet, images8: np.ndarray, labels: np.ndarray) -> float:
    net.eval()
    with torch.inference_mode():
        predicted = net(to_input(images8)).argmax(1).numpy()
    return float((predicted == labels).mean())


def train(epochs: int = 60, seed: int = 0) -> tuple[DigitsLeNet, float]:
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    train_x, held_x, train_y, held_y = digits_split()
    inputs, targets = to_input(train_x), torch.from_numpy(train_y)
    net = DigitsLeNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    for _epoch in range(epochs):
        net.train()
        order = torch.randperm(len(inputs), generator=generator)
        for start in range(0, len(order), 64):
            batch = order[start : start + 64]
            loss = F.cross_entropy(net(augment(inputs[batch], generator)), targets[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        schedule.step()
    return net.eval(), evaluate(net, held_x, held_y)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    net, accuracy = train(args.epochs, args.seed)
    weights = resource_path("models", "digits_lenet.pt")
    torch.save(net.state_dict(), weights)
    meta = {
        "held_out_accuracy": accuracy,
        "held_out_fraction": HELD_OUT_FRACTION,
        "split_seed": SPLIT_SEED,
        "epochs": args.epochs,
        "seed": args.seed,
    }
    weights.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"held-out accuracy {accuracy:.4f}; wrote {weights}")


if __name__ == "__main__":
    main()
