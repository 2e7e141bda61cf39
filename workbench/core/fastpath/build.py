"""Building a compiled package ahead of time: ``torch.export`` the pixel module with a
dynamic batch, compile it with AOTInductor, check it against eager, keep it on disk.

Why ahead of time: a package loads in a fraction of a second with no tracing, so the
window's process never runs the compiler (in the window a helper process builds it,
:mod:`workbench.core.fastpath.helper`) and the same package serves every batch size with no
recompilation.  Reference: https://pytorch.org/docs/stable/torch.compiler_aot_inductor.html
"""

from __future__ import annotations

import copy
import shutil
import time

import torch
from torch import nn

from workbench.core.fastpath import check, store
from workbench.core.fastpath.package import INSIDE, OUTSIDE, missing_weights, open_package
from workbench.core.fastpath.plan import Plan

EXAMPLE_BATCH = 4
_HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
               "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs",
               "_forward_hooks_always_called", "_backward_pre_hooks")


class Tapped(nn.Module):
    """The pixel module, returning its logits and the pooled output of one layer (the
    embeddings' features), or ``None`` for the latter without a layer."""

    def __init__(self, module: nn.Module, layer: str | None, info=None):
        super().__init__()
        self.module, self.layer, self.info = module, layer, info

    def forward(self, x):
        if self.layer is None:
            return self.module(x), None
        from workbench.core.embedding.features import pool

        seen = []

        def keep(_module, _inputs, output):
            """Pool at once, as the eager hook does: a later in-place op (DenseNet's
            ReLU after its feature block) changes the tensor itself."""
            tensor = output if isinstance(output, torch.Tensor) else output[0]
            seen.append(pool(tensor, self.info))

        handle = self.module.net.get_submodule(self.layer).register_forward_hook(keep)
        try:
            logits = self.module(x)
        finally:
            handle.remove()
        return logits, seen[-1]


class Cast(nn.Module):
    """A copy of ``inner`` computing in ``dtype``; inputs and outputs stay float32."""

    def __init__(self, inner: nn.Module, dtype: torch.dtype):
        super().__init__()
        self.inner, self.dtype = inner.to(dtype), dtype

    def forward(self, x):
        logits, features = self.inner(x.to(self.dtype))
        return logits.float(), None if features is None else features.float()


def weight_sharing_copy(module: nn.Module) -> nn.Module:
    """A copy of the module tree whose parameters and buffers are the same tensors (no
    second copy of the weights), without the eager module's hooks."""
    memo = {id(t): t for t in (*module.parameters(), *module.buffers())}
    twin = copy.deepcopy(module, memo)
    for sub in twin.modules():
        for name in _HOOK_DICTS:
            hooks = getattr(sub, name, None)
            if hooks:
                hooks.clear()
    return twin.eval()


def tapped(model, plan: Plan) -> nn.Module:
    """What gets compiled for ``plan``: the tapped pixel module, in its precision."""
    info = model.layer_info(plan.feature_layer) if plan.feature_layer else None
    if plan.precision == "bfloat16":  # a real copy: .to() would convert the shared weights
        return Cast(Tapped(copy.deepcopy(model.module).eval(), plan.feature_layer, info),
                    torch.bfloat16)
    return Tapped(weight_sharing_copy(model.module), plan.feature_layer, info)


def eager_reference(model, plan: Plan):
    """``x -> (logits, features)`` of the eager model in float32 (the truth to compare)."""
    return Tapped(weight_sharing_copy(model.module), plan.feature_layer,
                  model.layer_info(plan.feature_layer) if plan.feature_layer else None)


def build(model, plan: Plan, ctx=None) -> dict:
    """Export, compile and check ``plan``'s package; returns the record (also written to
    the store, failures included: ``{"state": "eager: <reason>", …}``)."""
    store.use_workbench_cache()
    start = time.perf_counter()
    try:
        record = _build(model, plan, ctx)
    except Exception as exc:  # noqa: BLE001 - any export / compiler failure: run eagerly
        lines = str(exc).strip().splitlines() or [""]
        record = {"state": f"eager: compilation failed: {type(exc).__name__}: "
                           f"{lines[0][:160]}"}
    record["build_s"] = time.perf_counter() - start
    store.write_record(plan, record)
    return record


def _build(model, plan: Plan, ctx) -> dict:
    device = torch.device(plan.device)
    module = tapped(model, plan)
    example = torch.rand(EXAMPLE_BATCH, *plan.input_shape, device=device)
    batch = torch.export.Dim("batch", min=1)
    if ctx is not None:
        ctx.progress(0.05, f"Exporting {model.name}")
    with precision_flags(plan.precision), torch.inference_mode():
        program = torch.export.export(module, (example,), dynamic_shapes=({0: batch},),
                                      strict=False)
    if ctx is not None:
        ctx.progress(0.15, f"Compiling {model.name} (tens of seconds, once)")
    built = store.temporary_package(plan)
    try:
        weights = _compile(program, built, plan, device, module)
        runner = flagged(open_package(built, device, module, weights), plan.precision)
        reason, facts = check.compare(runner, eager_reference(model, plan),
                                      check.probes(plan, device),
                                      exact=plan.precision == "float32")
        if reason is None:
            store.commit_package(plan, built)
    finally:
        built.unlink(missing_ok=True)
        shutil.rmtree(built.with_name(built.name + ".d"), ignore_errors=True)
    facts["weights"] = weights
    return {"state": "ready" if reason is None else f"eager: {reason}", **facts}


def flagged(runner, precision: str):
    """``runner`` called with :class:`precision_flags` (TF32 is a global switch read at
    run time, so a TF32 package runs with it on and everything else with it as it was)."""
    if precision != "tf32":
        return runner

    def run(x):
        with precision_flags(precision):
            return runner(x)

    return run


def _compile(program, built, plan: Plan, device, module) -> str:
    """Compile ``program`` into ``built``, without the weights when every one of them is an
    attribute of ``module`` (returns :data:`OUTSIDE`), else with them (:data:`INSIDE`)."""
    with precision_flags(plan.precision):
        torch._inductor.aoti_compile_and_package(
            program, package_path=str(built),
            inductor_configs={"aot_inductor.package_constants_in_so": False})
    if not missing_weights(built, device, module):
        return OUTSIDE
    with precision_flags(plan.precision):
        torch._inductor.aoti_compile_and_package(program, package_path=str(built))
    return INSIDE


class precision_flags:
    """TF32 on for the block when the plan asks for it (CUDA matmuls and convolutions)."""

    def __init__(self, precision: str):
        self.on = precision == "tf32"

    def __enter__(self):
        if self.on:
            self.saved = (torch.backends.cuda.matmul.allow_tf32,
                          torch.backends.cudnn.allow_tf32)
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True

    def __exit__(self, *_exc):
        if self.on:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = self.saved
