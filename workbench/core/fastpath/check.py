"""Is a compiled package's output the eager one?  Exact (float32) or measured (reduced
precision).

Float32 must match within :data:`RTOL` of the largest eager logit, with the same top-k
(a swap of two eager-equal values counts as the same); TF32 and bfloat16 are the user's
choice, so they are not refused, only measured: the largest relative difference and how
many of the probe images keep their top-1 class, reported beside the speed.
"""

from __future__ import annotations

import torch

RTOL = 1e-4
TOPK = 5
PROBE_SIZES = (4, 1, 7)  # when built: the example batch, a single image, an odd batch
LOAD_PROBE_SIZES = (2,)  # when a process loads it: one batch, to catch a foreign package


def probes(plan, device, sizes=PROBE_SIZES) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return [torch.rand(n, *plan.input_shape, generator=generator).to(device) for n in sizes]


def relative(compiled: torch.Tensor, eager: torch.Tensor) -> float:
    scale = eager.abs().max().clamp_min(1e-12)
    return float((compiled.float() - eager.float()).abs().max() / scale)


def mismatch(compiled: torch.Tensor, eager: torch.Tensor, what: str = "logits") -> str | None:
    """``None`` when ``compiled`` equals ``eager`` within :data:`RTOL` with the same
    top-k, else why not (one line)."""
    if compiled.shape != eager.shape:
        return (f"compiled {what} {tuple(compiled.shape)} differ in shape from eager "
                f"{tuple(eager.shape)}")
    if not torch.isfinite(compiled).all():
        return f"compiled {what} are not finite"
    diff = relative(compiled, eager)
    if diff > RTOL:
        return f"compiled {what} differ from eager by {diff:.1e} relative (> {RTOL:.0e})"
    if what == "logits":
        k = min(TOPK, eager.shape[-1])
        top = eager.topk(k, dim=-1).values
        picked = eager.gather(-1, compiled.topk(k, dim=-1).indices)
        if (picked - top).abs().max() > RTOL * eager.abs().max().clamp_min(1e-12):
            return f"compiled top-{k} differs from eager"
    return None


def compare(run, eager, inputs: list[torch.Tensor], exact: bool) -> tuple[str | None, dict]:
    """Run ``run`` (compiled: ``x -> (logits, features | None)``) and ``eager`` on every
    input; returns ``(reason or None, measured facts)``."""
    worst = {"logits": 0.0, "features": 0.0}
    agree = total = 0
    for x in inputs:
        with torch.inference_mode():
            got, want = run(x), eager(x)
        for what, a, b in (("logits", got[0], want[0]), ("features", got[1], want[1])):
            if a is None or b is None:
                continue
            if exact or not torch.isfinite(a).all() or a.shape != b.shape:
                reason = mismatch(a, b, what)
                if reason:
                    return reason, {}
            worst[what] = max(worst[what], relative(a, b))
        agree += int((got[0].argmax(-1) == want[0].argmax(-1)).sum())
        total += x.shape[0]
    return None, {"logit_diff": worst["logits"], "feature_diff": worst["features"],
                  "top1_agree": agree, "probes": total}
