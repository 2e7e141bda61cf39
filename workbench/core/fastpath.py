"""A compiled forward for forward-only jobs (issue 20): exact or not used.

Why: on this CPU the eager forward is not the limit — EfficientNet-Lite0 ran 2.1× faster
after ``torch.compile`` (inductor) with logits equal to ~1e-5 (DESIGN.md §9). Jobs that
only run forwards (predict, occlusion, Score-CAM, deletion / insertion, per-frame video)
call :func:`forward`, which uses a compiled copy when one is ready and eager otherwise.

How:

- :func:`prepare` compiles a *copy* of ``model.module`` (sharing its weights), so hooks
  installed on the eager module by CAMs and inspection keep working and never see the
  compiled graph.  Compilation is slow (tens of seconds), so it only happens there —
  never inside :func:`forward` — and it fills inductor's on-disk caches under Workbench's
  cache folder, so the next process loads the compiled code in about a second.
- The batch dimension is marked dynamic.  Dynamo still specializes batch 1 and inductor
  may split the range where the convolution backend changes (LeNet: batch < 16), so
  :func:`prepare` probes powers of two and records the largest batch the one graph
  takes: larger batches are cut into chunks of that size, a batch of one is padded to
  two.  After :func:`prepare`, a guard failure never recompiles (stance
  ``fail_on_recompile``): that call runs eagerly instead.
- The copy is checked once against eager on a probe batch (logits within 1e-4 relative,
  same top-5); a model that fails to compile or to match runs eagerly and
  ``model.extras["fastpath"]`` says why in one line ("ready", "off", "eager: …").
- ``WORKBENCH_COMPILE=0`` (or ``prepare(..., enabled=False)``, a setting) turns it off.
"""

from __future__ import annotations

import contextlib
import copy
import os
import time
import weakref
from dataclasses import dataclass

import torch

from workbench.core.jobs import JobContext, PlainContext

STATE_KEY = "fastpath"  # in LoadedModel.extras: "ready", "off" or "eager: <reason>"
RTOL = 1e-4  # largest logit difference allowed, relative to the largest eager logit
TOPK = 5
PROBE_BATCH = 4
MAX_PROBE_BATCH = 64  # the occlusion sweep's CPU cap


@dataclass
class _Compiled:
    fn: object  # the compiled copy
    input_shape: tuple[int, ...]  # (3, H, W) it was compiled for
    device: torch.device
    max_batch: int  # the largest batch the one dynamic graph takes without recompiling
    compile_s: float


# PixelModel → its compiled copy (weak: a dropped model frees its compiled code)
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def enabled_by_env() -> bool:
    """False when ``WORKBENCH_COMPILE`` is ``0`` / ``off`` / ``false`` / ``no``."""
    return os.environ.get("WORKBENCH_COMPILE", "1").strip().lower() not in (
        "0", "off", "false", "no")


def inductor_cache_dir():
    """Inductor's on-disk cache inside Workbench's cache folder (beside ``samples/``)."""
    from workbench.io.samples import samples_cache_dir

    return samples_cache_dir().parent / "inductor"


def use_workbench_cache() -> None:
    """Point inductor's caches (FX graph, AOT autograd, compiled kernels) at
    :func:`inductor_cache_dir` unless the user chose one (``TORCHINDUCTOR_CACHE_DIR``;
    inductor writes its own default there on first use, which does not count)."""
    from torch._inductor.runtime.cache_dir_utils import default_cache_dir

    if os.environ.get("TORCHINDUCTOR_CACHE_DIR") in (None, "", default_cache_dir()):
        path = inductor_cache_dir()
        path.mkdir(parents=True, exist_ok=True)
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(path)


def state(model) -> str:
    """``"ready"``, ``"off"``, ``"eager: <reason>"``, or ``"eager"`` when never prepared."""
    if model.module in _COMPILED:
        return model.extras.get(STATE_KEY, "ready")
    return model.extras.get(STATE_KEY, "eager")


def is_ready(model) -> bool:
    return model.module in _COMPILED


def _refusal(model) -> str | None:
    if model.task != "classification" or model.extras.get("dense_task"):
        task = model.extras.get("dense_task") or model.task
        return f"{task} models run eagerly (only classifiers are compiled)"
    if model.kind != "image":
        return f"{model.kind} models run eagerly (only image classifiers are compiled)"
    if isinstance(getattr(model.module, "net", None), torch.jit.ScriptModule):
        return "TorchScript networks run as they are"
    return None


def _weight_sharing_copy(module: torch.nn.Module) -> torch.nn.Module:
    """A deep copy of the module tree whose parameters and buffers are the same tensors
    (no second copy of the weights), without the eager module's hooks."""
    memo = {id(t): t for t in (*module.parameters(), *module.buffers())}
    twin = copy.deepcopy(module, memo)
    for sub in twin.modules():
        for name in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
                     "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs",
                     "_forward_hooks_always_called", "_backward_pre_hooks"):
            hooks = getattr(sub, name, None)
            if hooks:
                hooks.clear()
    return twin.eval()


def _mismatch(compiled: torch.Tensor, eager: torch.Tensor) -> str | None:
    """``None`` when ``compiled`` equals ``eager`` within :data:`RTOL` with the same top-k
    (a swap of two eager-equal values counts as the same), else why not."""
    if compiled.shape != eager.shape or compiled.dtype != eager.dtype:
        return f"compiled output {tuple(compiled.shape)} differs from eager {tuple(eager.shape)}"
    if not torch.isfinite(compiled).all():
        return "compiled output is not finite"
    scale = eager.abs().max().clamp_min(1e-12)
    diff = float((compiled - eager).abs().max() / scale)
    if diff > RTOL:
        return f"compiled logits differ from eager by {diff:.1e} relative (> {RTOL:.0e})"
    k = min(TOPK, eager.shape[-1])
    top_e = eager.topk(k, dim=-1)
    picked = eager.gather(-1, compiled.topk(k, dim=-1).indices)
    if (picked - top_e.values).abs().max() > RTOL * scale:
        return f"compiled top-{k} differs from eager"
    return None


def _no_recompile():
    return torch.compiler.set_stance("fail_on_recompile")


def _max_batch(fn, shape, device, limit: int) -> int:
    """Largest power of two ≤ ``limit`` (from 2 up) that the compiled graph runs as is."""
    best = 2
    size = 4
    while size <= limit:
        try:
            with _no_recompile():
                fn(torch.rand(size, *shape, device=device))
        except Exception:  # noqa: BLE001 - a guard failure: this size would recompile
            break
        best, size = size, size * 2
    return best


def prepare(model, ctx: JobContext | None = None, enabled: bool | None = None,
            max_batch: int = MAX_PROBE_BATCH) -> str:
    """Compile a copy of ``model.module`` and check it against eager; returns the state
    stored in ``model.extras["fastpath"]`` ("ready", "off" or "eager: <reason>").

    Slow the first time (tens of seconds); a later process reuses inductor's disk cache.
    """
    ctx = ctx or PlainContext()
    _COMPILED.pop(model.module, None)
    if enabled is False or (enabled is None and not enabled_by_env()):
        model.extras[STATE_KEY] = "off"
        return "off"
    reason = _refusal(model)
    if reason is None:
        ctx.progress(0.0, f"Compiling {model.name}")
        try:
            reason = _compile(model, max_batch)
        except Exception as exc:  # noqa: BLE001 - any compiler failure means: run eagerly
            lines = str(exc).strip().splitlines() or [""]
            reason = f"compilation failed: {type(exc).__name__}: {lines[0][:160]}"
    model.extras[STATE_KEY] = "ready" if reason is None else f"eager: {reason}"
    ctx.progress(1.0, f"Fast path {model.extras[STATE_KEY]}")
    return model.extras[STATE_KEY]


def _compile(model, max_batch: int) -> str | None:
    use_workbench_cache()
    shape = (3, *model.input_size)
    fn = torch.compile(_weight_sharing_copy(model.module), backend="inductor", fullgraph=True)
    generator = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    with torch.inference_mode():
        probe = torch.rand(PROBE_BATCH, *shape, generator=generator).to(model.device)
        torch._dynamo.mark_dynamic(probe, 0)
        compiled = fn(probe)
        compile_s = time.perf_counter() - start
        reason = _mismatch(compiled, model.module(probe))
        if reason is None:
            top = _max_batch(fn, shape, model.device, max_batch)
            _COMPILED[model.module] = _Compiled(fn, shape, model.device, top, compile_s)
    return reason


@contextlib.contextmanager
def eager(model):
    """Within the block :func:`forward` runs ``model`` eagerly (benchmarks, comparisons)."""
    entry = _COMPILED.pop(model.module, None)
    try:
        yield
    finally:
        if entry is not None:
            _COMPILED[model.module] = entry


def details(model) -> _Compiled | None:
    """The compiled copy's facts (compile seconds, largest batch per call), or None."""
    return _COMPILED.get(model.module)


def forward(model, x: torch.Tensor) -> torch.Tensor:
    """``model.module(x)`` for a forward-only job: the compiled copy under inference mode
    when :func:`prepare` made one ready and ``x`` suits it, else eager (never compiles)."""
    entry = _COMPILED.get(model.module)
    if (entry is None or x.ndim != 4 or tuple(x.shape[1:]) != entry.input_shape
            or x.dtype != torch.float32 or x.device != entry.device or x.shape[0] == 0
            or (x.requires_grad and torch.is_grad_enabled())):  # gradients: eager only
        return model.module(x)
    with torch.inference_mode():
        try:
            return _run(entry, x)
        except RuntimeError as exc:
            if "recompile" not in str(exc):
                raise
    return model.module(x)  # a guard failed: would recompile, so run eagerly


def _run(entry: _Compiled, x: torch.Tensor) -> torch.Tensor:
    if not x.is_inference():
        x = x.clone()  # inference tensors only: a normal tensor fails the graph's guards
    x = x.contiguous()  # an expanded batch would fail the stride guards
    n = x.shape[0]
    with _no_recompile():
        if n == 1:
            return entry.fn(torch.cat([x, x]))[:1].clone()
        if n <= entry.max_batch:
            return entry.fn(x)
        chunks = [entry.fn(c) if c.shape[0] > 1 else entry.fn(torch.cat([c, c]))[:1]
                  for c in x.split(entry.max_batch)]
    return torch.cat(chunks)
