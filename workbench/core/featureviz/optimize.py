"""The optimization loop, as a generator that yields snapshots.

The GUI, the CLI, tests and benchmarks all drive the same loop.  The loop
reads its :class:`FeatureVizConfig` at every step, so a live edit (learning
rate, transforms, regularizers, even the parameterization) takes effect on the
next step.  Only the layers the objective needs are recorded; when the
objective does not need the logits, the forward pass stops at the deepest of
those layers.  Hooks are removed when the generator finishes, raises, or is
closed (cancel).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from workbench.core.featureviz.parameterization import make_image
from workbench.core.featureviz.transforms import penalties, robustness
from workbench.core.jobs import JobContext, PlainContext
from workbench.core.models.layout import channels_first
from workbench.core.params import param


@dataclass
class FeatureVizConfig:
    """Everything about the run that may change while it runs."""

    lr: float = param(0.05, low=1e-4, high=1.0, step=0.01, help="Adam learning rate")
    parameterization: str = param("fft", choices=("fft", "pixel"), help="image representation")
    pad: int = param(8, low=0, high=64, help="constant padding before the transforms (px)")
    jitter: int = param(8, low=0, high=64, help="random shift (px)")
    scale: float = param(0.1, low=0.0, high=0.5, step=0.05, help="random scale ± fraction")
    rotate: float = param(5.0, low=0.0, high=45.0, help="random rotation ± degrees")
    l1: float = param(0.0, low=0.0, high=10.0, help="L1 penalty weight")
    l2: float = param(0.0, low=0.0, high=10.0, help="L2 penalty weight")
    tv: float = param(0.0, low=0.0, high=10.0, help="total-variation penalty weight")
    blur_every: int = param(0, low=0, high=1000, help="blur the image every k steps (0: never)")
    blur_sigma: float = param(0.5, low=0.1, high=5.0, help="blur strength (px)")


@dataclass
class Snapshot:
    step: int
    images: np.ndarray  # (B, S, S, 3) in [0, 1]
    values: np.ndarray  # (B,) objective value per image
    loss: float
    steps_per_second: float


class _StopForward(Exception):
    """Raised by the hook of the last needed layer to skip the rest of the network."""


class Recorder:
    """Forward hooks that keep the outputs the objective needs; a context manager."""

    def __init__(self, model, objective):
        self.model, self.objective = model, objective
        if objective.needs_logits and not getattr(model, "is_classifier", True):
            from workbench.errors import InputError

            raise InputError(f"{model.name} is a {model.task} model: a class objective needs "
                             "a classifier, or a detection / region as the target (in the "
                             "window: pick one in Predict); channel objectives work as they are")
        self.acts: dict[str, torch.Tensor] = {}
        self.handles = []
        self.last = None if objective.needs_logits else self._deepest(objective.layers)

    def _deepest(self, layers) -> str | None:
        order = [layer.name for layer in self.model.layers]
        return max(layers, key=order.index) if layers else None

    def __enter__(self):
        for name in self.objective.layers:
            module = self.model.layer_module(name)
            self.handles.append(module.register_forward_hook(self._hook(name)))
        return self

    def _hook(self, name):
        def hook(_module, _inputs, output):
            tensor = output if isinstance(output, torch.Tensor) else output[0]
            self.acts[name] = channels_first(tensor, self.model.layer_info(name))
            if name == self.last and all(n in self.acts for n in self.objective.layers):
                raise _StopForward()

        return hook

    def run(self, x: torch.Tensor):
        self.acts = {}
        logits = None
        try:
            logits = self.model.module(x)
        except _StopForward:
            pass
        return self.acts, logits

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()
        self.handles.clear()
        self.acts = {}
        return False


def _to_model(image: torch.Tensor, model) -> torch.Tensor:
    size = tuple(model.input_size)
    if tuple(image.shape[-2:]) != size:
        image = F.interpolate(image, size=size, mode="bilinear", align_corners=False)
    if model.kind == "video":
        image = image.unsqueeze(2).expand(-1, -1, model.num_frames, -1, -1)
    return image


def visualize(model, objective, config: FeatureVizConfig | None = None, steps: int = 256,
              batch: int = 1, size: int = 224, seed: int = 0, init: torch.Tensor | None = None,
              snapshot_every: int = 16, snapshot_seconds: float | None = None,
              ctx: JobContext | None = None, state: dict | None = None):
    """Optimize an image batch for ``objective``; yield a :class:`Snapshot` now and then.

    Parameters
    ----------
    snapshot_every, snapshot_seconds
        Yield every ``snapshot_every`` steps, or (if given) whenever this much
        time passed — the GUI uses time so that the preview runs at a steady rate.
    init
        ``(B, 3, S, S)`` pixels to start from (DeepDream on a photo); noise otherwise.
    state
        A dict that keeps the image and optimizer between calls (pause / resume).
    """
    config = config or FeatureVizConfig()
    ctx = ctx or PlainContext()
    state = state if state is not None else {}
    device = model.device
    rng = random.Random(seed)
    if "image" not in state:
        state["image"] = make_image(config.parameterization, batch, size, device, seed, init)
        state["step"] = 0
    started, last_yield, first_step = time.perf_counter(), time.perf_counter(), state["step"]
    with Recorder(model, objective) as recorder:
        for index in range(steps):
            ctx.check()
            image, optimizer = _current(state, config, batch, size, device, seed)
            picture = image.image()
            acts, logits = recorder.run(_to_model(robustness(picture, config, rng), model))
            values = objective(acts, logits)
            loss = -(values - penalties(picture, config)).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            state["step"] += 1
            ctx.progress((index + 1) / steps, f"Feature visualization step {index + 1}/{steps}")
            if config.blur_every and state["step"] % config.blur_every == 0:
                image.blur(config.blur_sigma)
            now = time.perf_counter()
            due = (now - last_yield >= snapshot_seconds) if snapshot_seconds else \
                state["step"] % snapshot_every == 0
            if due or index == steps - 1:
                last_yield = now
                rate = (state["step"] - first_step) / max(now - started, 1e-9)
                yield _snapshot(image, values, loss, state["step"], rate)


def _current(state, config, batch, size, device, seed):
    """The image and optimizer, rebuilt if the parameterization or rate changed."""
    image = state["image"]
    if image.kind != config.parameterization:
        with torch.no_grad():
            start = image.image().detach()
        image = make_image(config.parameterization, batch, size, device, seed, init=start)
        state["image"] = image
        state.pop("optimizer", None)
    optimizer = state.get("optimizer")
    if optimizer is None:
        # fused: one kernel per step instead of a dozen small ones
        optimizer = torch.optim.Adam(image.parameters(), lr=config.lr, fused=True)
        state["optimizer"] = optimizer
    for group in optimizer.param_groups:
        group["lr"] = config.lr
    return image, optimizer


def _snapshot(image, values, loss, step, rate) -> Snapshot:
    with torch.no_grad():
        pictures = image.image().detach().permute(0, 2, 3, 1).float().cpu().numpy()
    return Snapshot(step, pictures, values.detach().float().cpu().numpy(), float(loss.detach()),
                    rate)


def run_to_end(model, objective, **kwargs) -> Snapshot:
    """Drive :func:`visualize` to the end; return the last snapshot."""
    last = None
    for last in visualize(model, objective, **kwargs):  # noqa: B007 - keep the last
        pass
    return last


def evaluate(model, objective, images: torch.Tensor) -> np.ndarray:
    """The objective's value for ready images ``(B, 3, H, W)`` (no transforms)."""
    with Recorder(model, objective) as recorder, torch.no_grad():
        acts, logits = recorder.run(_to_model(images.to(model.device), model))
        return objective(acts, logits).float().cpu().numpy()
