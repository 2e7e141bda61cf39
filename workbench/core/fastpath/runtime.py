"""Running forward-only work on a model's compiled package: exact or not used.

:func:`prepare` finds (or builds) the package of a model's :class:`~.plan.Plan`, loads
it and checks it once against eager here; :func:`forward` and :func:`features` then run
it for every forward-only job (predict, occlusion, Score-CAM, deletion / insertion, video
frames, embeddings, attack evaluation) and fall back to eager for anything it does not
suit — gradients, another input shape, dtype or device, a layer it does not return.
Hooks installed on the eager module by CAMs and inspection never see the package.
``model.extras["fastpath"]`` says what happened in one line: "ready", "off" or
"eager: <reason>".
"""

from __future__ import annotations

import contextlib
import time
import weakref
from dataclasses import dataclass

import torch

from workbench.core.compile_switch import enabled_by_env
from workbench.core.fastpath import check, store
from workbench.core.fastpath.build import build, eager_reference, flagged, tapped
from workbench.core.fastpath.package import OUTSIDE, open_package
from workbench.core.fastpath.plan import (
    DEFAULT_PRECISION,
    Plan,
    check_precision,
    plan_for,
    refusal,
)
from workbench.core.jobs import JobContext, PlainContext
from workbench.core.provenance import WEIGHTS_HASH_KEY

STATE_KEY = "fastpath"  # in LoadedModel.extras: "ready", "off" or "eager: <reason>"
FACTS_KEY = "fastpath_facts"  # the build and check figures, for the status bar's tooltip
NOT_BUILT = "eager: not compiled yet"
WINDOW_LOCK_BUDGET_MS = 40.0  # the window's: a runtime that holds the lock is not used there


@dataclass
class Entry:
    run: object  # x -> (logits, features | None)
    plan: Plan
    device: torch.device
    load_s: float
    facts: dict

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.plan.input_shape


# PixelModel → its loaded package (weak: a dropped model frees its compiled code)
_LOADED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def state(model) -> str:
    """``"ready"``, ``"off"``, ``"eager: <reason>"``, or ``"eager"`` when never prepared."""
    return model.extras.get(STATE_KEY, "ready" if is_ready(model) else "eager")


def is_ready(model) -> bool:
    return model.module in _LOADED


def details(model) -> Entry | None:
    """The loaded package's facts (plan, load seconds, measured differences), or None."""
    return _LOADED.get(model.module)


def plan_of(model, precision: str = DEFAULT_PRECISION) -> Plan | None:
    """The plan ``prepare`` would use, or ``None`` for a model that is never compiled."""
    return None if refusal(model) else plan_for(model, precision)


def prepare(model, ctx: JobContext | None = None, enabled: bool | None = None,
            build_missing: bool = True, precision: str = DEFAULT_PRECISION,
            lock_budget_ms: float | None = None) -> str:
    """Make ``model``'s compiled package ready; returns the state also stored in
    ``model.extras["fastpath"]``.

    A package built before (this or an earlier process) loads in under a second;
    otherwise ``build_missing`` builds it here (tens of seconds, once) or, when False, the
    state is :data:`NOT_BUILT` (the window builds it in a helper process and asks again).
    A build that failed before is not retried: its reason is the state.

    ``lock_budget_ms`` (the window's): where the compiled runtime would hold Python's
    interpreter lock for a whole forward pass (torch's binding, when the package's C
    interface is not there), the model runs eagerly instead.
    """
    ctx = ctx or PlainContext()
    _LOADED.pop(model.module, None)
    model.extras.pop(FACTS_KEY, None)
    if enabled is False or (enabled is None and not enabled_by_env()):
        return _set(model, "off")
    reason = refusal(model) or check_precision(precision, model.device)
    if reason:
        return _set(model, f"eager: {reason}")
    plan = plan_for(model, precision)
    record = store.read_record(plan)
    if record is None and not build_missing:
        return _set(model, NOT_BUILT)
    if record is None:
        ctx.progress(0.0, f"Compiling {model.name}")
        record = build(model, plan, ctx)
    model.extras[FACTS_KEY] = record
    if record["state"] != "ready":
        return _set(model, record["state"])
    ctx.progress(0.95, f"Loading {model.name}'s compiled code")
    return _set(model, _load(model, plan, record, lock_budget_ms))


def _set(model, text: str) -> str:
    model.extras[STATE_KEY] = text
    return text


def _load(model, plan: Plan, record: dict, lock_budget_ms: float | None = None) -> str:
    start = time.perf_counter()
    try:
        module = tapped(model, plan)  # the eager model's weights, shared
        runner = flagged(open_package(store.package_path(plan), torch.device(plan.device),
                                      module, record.get("weights", OUTSIDE)), plan.precision)
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign package: rebuild later
        store.package_path(plan).unlink(missing_ok=True)
        return f"eager: the compiled package did not load ({type(exc).__name__})"
    device = torch.device(plan.device)
    reason, facts = check.compare(runner, eager_reference(model, plan),
                                  check.probes(plan, device, check.LOAD_PROBE_SIZES),
                                  exact=plan.precision == "float32")
    if reason:
        store.write_record(plan, {**record, "state": f"eager: {reason}"})  # not retried
        return f"eager: {reason}"
    store.touch(plan)
    if lock_budget_ms and not getattr(runner, "releases_lock", True):
        return ("eager: this torch's compiled runtime holds Python's interpreter lock "
                "while it runs, which would stall the window")
    if device.type == "cuda":  # the package's convolutions are cuDNN calls: pick per shape
        torch.backends.cudnn.benchmark = True
    _LOADED[model.module] = Entry(runner, plan, device, time.perf_counter() - start,
                                  {**record, "load_check": facts})
    return "ready"


def drop(model) -> None:
    """Stop using the compiled package (the setting was turned off)."""
    _LOADED.pop(model.module, None)
    _set(model, "off")


@contextlib.contextmanager
def eager(model):
    """Within the block :func:`forward` runs ``model`` eagerly (benchmarks, comparisons)."""
    entry = _LOADED.pop(model.module, None)
    try:
        yield
    finally:
        if entry is not None:
            _LOADED[model.module] = entry


def _suits(model, entry: Entry | None, x: torch.Tensor) -> bool:
    """The package serves ``x``: same shape, dtype and device, no gradients wanted, and the
    model's weights unchanged since (new CLIP prompts drop the cached weights hash)."""
    return (entry is not None and model.extras.get(WEIGHTS_HASH_KEY) == entry.plan.weights_sha256
            and x.ndim == 4 and tuple(x.shape[1:]) == entry.input_shape
            and x.dtype == torch.float32 and x.device == entry.device and x.shape[0] > 0
            and not (x.requires_grad and torch.is_grad_enabled()))  # gradients: eager only


def forward(model, x: torch.Tensor) -> torch.Tensor:
    """``model.module(x)`` for a forward-only job: the compiled package when one is
    ready and suits ``x``, else eager."""
    entry = _LOADED.get(model.module)
    if not _suits(model, entry, x):
        return model.module(x)
    return _run(entry, x)[0]


def features(model, layer: str, x: torch.Tensor) -> torch.Tensor | None:
    """The pooled features of ``layer`` for ``x`` from the compiled package, or ``None``
    when it does not return that layer (the caller runs eagerly)."""
    entry = _LOADED.get(model.module)
    if not _suits(model, entry, x) or entry.plan.feature_layer != layer:
        return None
    return _run(entry, x)[1]


def _run(entry: Entry, x: torch.Tensor):
    with torch.no_grad():  # not inference mode: callers may keep or edit the outputs
        return entry.run(x.contiguous())
