"""Shared machinery of the attack family: the attack protocol, the registry, goals
(untargeted, a class, or the least-likely class), norm balls, and the iterative loop.

Every attack takes pixels ``(N, 3, H, W)`` in [0, 1] on the model's device.
Budgets (``eps``) and step sizes are in pixel units (8/255 = eight grey
levels).  The adversarial result is always clipped to [0, 1].  Gradients are
taken with respect to a detached copy of the input only; the model's weights
stay frozen, so backward computes nothing for them.

Inside an attack ``eps`` may be a float (one budget for the batch) or a
``(N,)`` tensor (one per image, as :func:`~workbench.core.adversarial.sweep.
epsilon_sweep` passes it); :func:`budget` turns either into a column that
broadcasts over the pixels.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from workbench.core import fastpath
from workbench.core.jobs import JobContext, PlainContext
from workbench.core.params import make, validate
from workbench.core.preprocess import check_batch
from workbench.core.registry import Registry
from workbench.errors import InputError

METHODS = Registry("attack")
LEAST_LIKELY = "least-likely"


@dataclass
class Goal:
    """What an attack aims at, per image.

    ``classes`` is the class to leave (untargeted) or to reach (targeted);
    ``source`` is each image's top-1 (or given true) class before the attack.
    """

    classes: torch.Tensor
    targeted: bool
    source: torch.Tensor

    def subset(self, index: torch.Tensor) -> Goal:
        return Goal(self.classes[index], self.targeted, self.source[index])

    def expand(self, n: int) -> Goal:
        return Goal(self.classes.expand(n), self.targeted, self.source.expand(n))

    def objective(self, logits: torch.Tensor) -> torch.Tensor:
        """Per-image loss the attack *ascends*: cross-entropy of the class to leave,
        or minus the cross-entropy of the class to reach."""
        loss = F.cross_entropy(logits.float(), self.classes, reduction="none")
        return -loss if self.targeted else loss

    def reached(self, logits: torch.Tensor) -> torch.Tensor:
        """``(N,)`` bool: the top-1 is the target, or is no longer the class to leave."""
        top = logits.argmax(dim=1)
        return top == self.classes if self.targeted else top != self.classes


@dataclass
class AttackResult:
    """Adversarial images plus how far they moved and what the model now says."""

    adversarial: torch.Tensor
    perturbation: torch.Tensor
    linf: np.ndarray
    l2: np.ndarray
    clean_logits: object  # the logits of the clean images, or a callable that computes them
    logits_after: torch.Tensor
    targets: torch.Tensor
    targeted: bool
    source: torch.Tensor
    success: np.ndarray
    steps_run: int
    method: str
    params: object
    extras: dict = field(default_factory=dict)
    multi_label: bool = False  # the model's labels are independent: sigmoid probabilities

    @property
    def logits_before(self) -> torch.Tensor:
        """The clean images' logits (computed on first use when the caller gave labels)."""
        if callable(self.clean_logits):
            self.clean_logits = self.clean_logits()
        return self.clean_logits

    @property
    def probs_before(self) -> torch.Tensor:
        return self._probabilities(self.logits_before)

    @property
    def probs_after(self) -> torch.Tensor:
        return self._probabilities(self.logits_after)

    def _probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        logits = logits.float()
        return torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=1)

    @property
    def top1_before(self) -> torch.Tensor:
        return self.logits_before.argmax(dim=1)

    @property
    def top1_after(self) -> torch.Tensor:
        return self.logits_after.argmax(dim=1)


class Attack:
    """One attack.  Subclasses set the class attributes and :meth:`perturb`."""

    name = ""
    title = ""
    paper = ""
    norm = "linf"  # or "l2": the ball ``eps`` bounds
    params_cls = None
    capped = False  # True: eps 0 means "no cap" (minimal-perturbation attacks)

    def __call__(self, model, x, target=None, params=None, ctx=None, labels=None):
        """Attack ``x``; ``target`` is None (untargeted), a class index (or one per
        image) or ``"least-likely"``; ``labels`` are true classes (default: top-1).

        With ``labels`` (and a target that is not the least likely class) the clean
        forward pass is skipped, as the step loop does not need it; the result computes
        the clean logits only if asked for them.
        """
        ctx = ctx or PlainContext()
        with gradients_allowed():
            x = check_pixels(model, x)
            params = self.make_params(params)
            ctx.check()
            if labels is None or is_least_likely(target):
                logits = forward(model, x)
            else:
                logits = _LazyLogits(model, x)
            goal = resolve_goal(logits, target, labels, model.num_classes, x)
            return self.run(model, x, goal, params, ctx, logits)

    def make_params(self, params):
        if params is None or isinstance(params, dict):
            return make(self.params_cls, params)
        if not isinstance(params, self.params_cls):
            raise InputError(f"{self.title} takes {self.params_cls.__name__}, "
                             f"not {type(params).__name__}")
        validate(params)
        return params

    def run(self, model, x, goal: Goal, params, ctx: JobContext, logits_before) -> AttackResult:
        """Perturb, clip, and measure (``x`` and ``goal`` already resolved)."""
        with gradients_allowed():
            adv, steps = self.perturb(model, x, goal, params, ctx)
        adv = clip_pixels(adv.detach())
        ctx.progress(1.0, f"{self.title}: done")
        logits_after = forward(model, adv)
        delta = adv - x
        flat = delta.flatten(1).float()
        return AttackResult(
            adversarial=adv, perturbation=delta,
            linf=flat.abs().amax(dim=1).cpu().numpy(), l2=flat.norm(dim=1).cpu().numpy(),
            clean_logits=logits_before if callable(logits_before) else logits_before.detach(),
            logits_after=logits_after,
            targets=goal.classes, targeted=goal.targeted, source=goal.source,
            success=goal.reached(logits_after).cpu().numpy(), steps_run=steps,
            method=self.name, params=params, multi_label=getattr(model, "multi_label", False))

    def perturb(self, model, x, goal: Goal, params, ctx: JobContext):
        """Return ``(adversarial pixels, steps run)``; ``x`` must not be modified."""
        raise NotImplementedError

    def eps_of(self, params, x: torch.Tensor) -> torch.Tensor:
        """The budget as a column; a capped attack's float eps of 0 means no cap."""
        eps = params.eps
        if self.capped and not isinstance(eps, torch.Tensor) and eps <= 0:
            eps = float("inf")
        return budget(eps, x)


@contextlib.contextmanager
def gradients_allowed():
    """Autograd on, also when the caller runs under ``no_grad`` or ``inference_mode``."""
    with torch.inference_mode(False), torch.enable_grad():
        yield


register = METHODS.register


def get_attack(name: str) -> Attack:
    return METHODS.named(name)


def check_pixels(model, x) -> torch.Tensor:
    """A detached copy of ``x`` on the model's device, checked for shape, NaN and range."""
    x = check_batch(model, x)
    if x.min() < -1e-4 or x.max() > 1 + 1e-4:
        raise InputError(f"attacks take pixels in [0, 1]; got values in "
                         f"[{float(x.min()):.3g}, {float(x.max()):.3g}]")
    return x.float().clamp(0.0, 1.0)


def forward(model, x: torch.Tensor) -> torch.Tensor:
    """Logits without a graph."""
    with torch.inference_mode():
        logits = fastpath.forward(model, x)
    if not torch.isfinite(logits).all():
        raise InputError(f"model {model.name} produced NaN or infinite outputs")
    return logits.clone()  # a normal tensor, usable outside inference mode


class _LazyLogits:
    """The clean forward pass, run only when someone asks for the clean logits."""

    def __init__(self, model, x: torch.Tensor):
        self.model, self.x = model, x

    def __call__(self) -> torch.Tensor:
        return forward(self.model, self.x)


def is_least_likely(target) -> bool:
    if not isinstance(target, str):
        return False
    if target.strip().lower().replace("_", "-") != LEAST_LIKELY:
        raise InputError(f"target must be a class index or '{LEAST_LIKELY}', not '{target}'")
    return True


def resolve_goal(logits, target, labels, num_classes: int, x: torch.Tensor) -> Goal:
    """The :class:`Goal` for the batch ``x`` with clean ``logits`` (a tensor, or a callable
    when ``labels`` are given and the target does not depend on them)."""
    n, device = x.shape[0], x.device
    source = logits.argmax(dim=1) if labels is None else class_tensor(labels, n, num_classes,
                                                                        device)
    if target is None:
        return Goal(source, False, source)
    if is_least_likely(target):
        return Goal(logits.argmin(dim=1), True, source)
    return Goal(class_tensor(target, n, num_classes, device), True, source)


def class_tensor(classes, n: int, num_classes: int, device) -> torch.Tensor:
    """An int, a sequence or a tensor of class indices → a checked ``(n,)`` long tensor."""
    if isinstance(classes, (int, np.integer)):
        classes = [int(classes)] * n
    values = torch.as_tensor(classes, dtype=torch.long).flatten().to(device)
    if values.numel() != n:
        raise InputError(f"{values.numel()} classes for a batch of {n}")
    bad = values[(values < 0) | (values >= num_classes)]
    if bad.numel():
        raise InputError(f"class {int(bad[0])} is outside 0 … {num_classes - 1}")
    return values


def budget(value, x: torch.Tensor) -> torch.Tensor:
    """A float or an ``(N,)`` tensor → a ``(N, 1, 1, 1)`` column on ``x``'s device."""
    column = torch.as_tensor(value, dtype=x.dtype, device=x.device).flatten()
    return column.expand(x.shape[0]).reshape(-1, *([1] * (x.ndim - 1)))


def per_image_norm(t: torch.Tensor, p: float = 2) -> torch.Tensor:
    """Per-image norm as a column ``(N, 1, 1, 1)``."""
    norms = t.flatten(1).norm(p=p, dim=1)
    return norms.view(-1, *([1] * (t.ndim - 1)))


def project_linf(adv: torch.Tensor, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """The nearest point to ``adv`` within ``eps`` of ``x`` in L∞."""
    return x + torch.minimum(torch.maximum(adv - x, -eps), eps)


def project_l2(adv: torch.Tensor, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """The nearest point to ``adv`` within ``eps`` of ``x`` in L2 (``eps`` may be inf)."""
    delta = adv - x
    factor = (eps / per_image_norm(delta).clamp_min(1e-12)).clamp(max=1.0)
    return x + delta * factor


def project(norm: str, adv, x, eps):
    return project_linf(adv, x, eps) if norm == "linf" else project_l2(adv, x, eps)


def clip_pixels(x: torch.Tensor) -> torch.Tensor:
    return x.clamp(0.0, 1.0)


def quantize_8bit(x: torch.Tensor, toward: torch.Tensor | None = None) -> torch.Tensor:
    """Pixels on the 256 levels an 8-bit image file can store.

    Plain rounding can step past the budget (a pixel 8/255 away becomes 8.5/255 away when
    the original sits between levels); with ``toward`` (the original) each pixel takes
    the level on either side of it that is nearer the original, so the stored
    perturbation is never larger than the one found, in L∞ or L2.
    """
    levels = x.clamp(0.0, 1.0) * 255.0
    if toward is None:
        return torch.round(levels) / 255.0
    low, high = torch.floor(levels), torch.ceil(levels)
    origin = toward.clamp(0.0, 1.0) * 255.0
    nearer = torch.where((low - origin).abs() <= (high - origin).abs(), low, high)
    return nearer / 255.0


def generator_for(x: torch.Tensor, seed: int) -> torch.Generator:
    return torch.Generator(device=x.device).manual_seed(int(seed))


def loss_gradient(model, x: torch.Tensor, goal: Goal):
    """``(d objective / d x, logits)`` for a batch: one forward, one backward to the input."""
    leaf = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = model.module(leaf)
        (grad,) = torch.autograd.grad(goal.objective(logits).sum(), leaf)
    return grad, logits.detach()


class GradientAttack(Attack):
    """Start, then ``steps`` × (input gradient, :meth:`step`): FGSM, BIM, PGD, MI-FGSM.

    With ``params.early_stop`` an image stops moving once it fools the model,
    and its forward / backward passes are no longer computed.
    """

    def num_steps(self, params) -> int:
        return params.steps

    def step_size(self, params):
        return params.step_size

    def start(self, x: torch.Tensor, eps: torch.Tensor, params) -> torch.Tensor:
        return x.clone()

    def init_state(self, x: torch.Tensor, params) -> dict:
        return {}

    def step(self, adv, x, grad, eps, alpha, params, state, index) -> torch.Tensor:
        """One update of the images ``index`` of the batch; returns them projected and clipped."""
        raise NotImplementedError

    def perturb(self, model, x, goal, params, ctx):
        eps = self.eps_of(params, x)
        alpha = budget(self.step_size(params), x)
        adv = clip_pixels(self.start(x, eps, params))
        state = self.init_state(x, params)
        steps, early = self.num_steps(params), bool(getattr(params, "early_stop", False))
        index = torch.arange(x.shape[0], device=x.device)
        run = 0
        for k in range(steps):
            ctx.check()
            every = index.numel() == x.shape[0]
            grad, logits = loss_gradient(model, adv if every else adv[index], goal.subset(index))
            if early:
                left = ~goal.reached(logits)
                index, grad = index[left], grad[left]
                if index.numel() == 0:
                    break
            if index.numel() == x.shape[0]:
                adv = self.step(adv, x, grad, eps, alpha, params, state, index)
            else:
                new = self.step(adv[index], x[index], grad, eps[index], alpha[index], params,
                                state, index)
                adv = adv.index_copy(0, index, new)
            run = k + 1
            ctx.progress(run / steps, f"{self.title}: step {run} of {steps}")
        return adv, run


def describe_params(params) -> dict:
    """Plain values of a params dataclass (tensors become lists) for JSON and captions."""
    out = {}
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        out[f.name] = value.tolist() if isinstance(value, torch.Tensor) else value
    return out
