"""An autoencoder trained live on the features: a small MLP squeezes them through two
numbers and back; the two numbers are the map.  Every epoch sends its loss with
``ctx.partial`` (a :class:`MapUpdate`), with the current map a few times a second, so a
UI can draw the loss curve and animate the map forming.

Hinton & Salakhutdinov, "Reducing the Dimensionality of Data with Neural Networks",
Science 2006, https://doi.org/10.1126/science.1127647
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from workbench.core.embedding.base import MapUpdate, Projection, Reducer, register
from workbench.core.params import param

PARTIAL_EVERY_S = 0.2  # a live map at most five times a second (the loss every epoch)


@dataclass
class AutoencoderParams:
    epochs: int = param(60, low=1, high=5000, help="passes over the features")
    hidden: int = param(256, low=8, high=4096, help="width of the first hidden layer")
    learning_rate: float = param(3e-3, low=1e-5, high=1.0, help="Adam step size", step=1e-4)
    batch_size: int = param(128, low=8, high=8192, help="features per training step")
    seed: int = param(0, low=0, high=2**31 - 1, help="random seed")


class Autoencoder(nn.Module):
    """``D → hidden → hidden/4 → 2 → hidden/4 → hidden → D`` with GELUs."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        narrow = max(4, hidden // 4)
        self.encoder = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, narrow),
                                     nn.GELU(), nn.Linear(narrow, 2))
        self.decoder = nn.Sequential(nn.Linear(2, narrow), nn.GELU(), nn.Linear(narrow, hidden),
                                     nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        return self.decoder(self.encoder(x))


@dataclass
class _State:
    net: Autoencoder
    mean: torch.Tensor
    scale: torch.Tensor
    losses: list

    def encode(self, features, batch: int = 8192) -> np.ndarray:
        device = self.mean.device
        rows = []
        with torch.inference_mode():
            for start in range(0, len(features), batch):
                x = torch.as_tensor(features[start : start + batch], device=device)
                rows.append(self.net.encoder((x - self.mean) / self.scale).cpu())
        return torch.cat(rows).numpy()


class AutoencoderReducer(Reducer):
    name = "autoencoder"
    title = "Autoencoder"
    paper = "https://doi.org/10.1126/science.1127647"
    params_cls = AutoencoderParams

    def fit(self, features, params, ctx, device) -> Projection:
        device = torch.device(device)
        x = torch.as_tensor(features, device=device)
        mean, scale = x.mean(dim=0), x.std(dim=0).clamp_min(1e-6)
        x = (x - mean) / scale
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(params.seed)
            net = Autoencoder(x.shape[1], params.hidden).to(device)
        state = _State(net, mean, scale, [])
        generator = torch.Generator().manual_seed(params.seed)
        with torch.enable_grad(), _one_thread_on_cpu(device):
            _train(state, x, params, ctx, generator)
        net.eval()
        coords = state.encode(features)
        ctx.partial(MapUpdate(self.name, params.epochs, params.epochs, coords, state.losses[-1]))
        return Projection(self.name, coords, params, state, extras={"losses": state.losses})

    def transform(self, projection, features):
        return projection.state.encode(features)


@contextlib.contextmanager
def _one_thread_on_cpu(device: torch.device):
    """Train with one intra-op thread on this thread only (OpenMP keeps it per thread).

    The steps are small matrix products: on a 2-core machine with one busy neighbour, two
    threads made a step 40× slower (4 ms → 150–400 ms); one thread loses little when idle.
    """
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _train(state: _State, x: torch.Tensor, params, ctx, generator) -> None:
    net = state.net.train()
    optimizer = torch.optim.Adam(net.parameters(), lr=params.learning_rate)
    n, next_map = x.shape[0], time.perf_counter()
    for epoch in range(1, params.epochs + 1):
        total = torch.zeros((), device=x.device)
        for batch in torch.randperm(n, generator=generator).to(x.device).split(params.batch_size):
            ctx.check()
            loss = nn.functional.mse_loss(net(x[batch]), x[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(batch)  # no device sync per step
        state.losses.append(float(total) / n)
        ctx.progress(epoch / params.epochs, f"Autoencoder epoch {epoch}: {state.losses[-1]:.4f}")
        if epoch == params.epochs:
            break  # fit() sends the final map
        coords = None
        if time.perf_counter() >= next_map:
            start = time.perf_counter()
            with torch.inference_mode():
                coords = net.encoder(x).cpu().numpy()
            cost = time.perf_counter() - start
            next_map = start + cost + max(PARTIAL_EVERY_S, 4 * cost)
        ctx.partial(MapUpdate("autoencoder", epoch, params.epochs, coords, state.losses[-1]))


register(AutoencoderReducer())
