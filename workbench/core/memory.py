"""Batch sizes estimated from memory *before* allocating (DESIGN.md §9: CPU out-of-memory
raises nothing useful, the process is killed).

What one input costs is measured once per model and kind of pass on a batch of one:

* ``"grad"`` — an input-gradient pass (saliency, SmoothGrad, IG, attacks): the bytes
  autograd keeps for the backward pass, counted with ``saved_tensors_hooks`` (attention
  matrices and every other saved intermediate included, the frozen weights excluded),
  plus the input and its gradient;
* ``"forward"`` — an inference pass: twice the largest layer output (what is alive at
  once in a chain of layers) plus the input.

A batch then gets at most :data:`BUDGET_FRACTION` of the memory available now (free
CUDA memory, or the system's available RAM).
"""

from __future__ import annotations

import os

import torch

BUDGET_FRACTION = 0.4
FALLBACK_CPU_BYTES = 4 << 30
_MEASURED: dict[tuple, int] = {}


def available_bytes(device: torch.device) -> int:
    """Memory that can still be allocated on ``device``."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    return _system_available()


def _system_available() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return FALLBACK_CPU_BYTES


def bytes_per_input(model, kind: str = "grad") -> int:
    """Bytes one input of ``model`` needs in a pass of ``kind`` (``"grad"``/``"forward"``)."""
    key = (id(model.module), str(model.device), tuple(model.input_shape(1)), kind)
    if key not in _MEASURED:
        measure = _saved_bytes if kind == "grad" else _forward_bytes
        _MEASURED[key] = int(measure(model))
    return _MEASURED[key]


def _input_bytes(model) -> int:
    shape = model.input_shape(1)
    return 4 * int(torch.Size(shape).numel())


def _forward_bytes(model) -> int:
    largest = max((torch.Size(layer.output_shape[1:]).numel() for layer in model.layers
                   if layer.output_shape), default=0)
    return 4 * 2 * largest + _input_bytes(model)


def _saved_bytes(model) -> int:
    """Bytes autograd saves for backward on one input (frozen weights not counted)."""
    weights = {p.data_ptr() for p in model.module.parameters()}
    weights |= {b.data_ptr() for b in model.module.buffers()}
    seen: dict[int, int] = {}

    def pack(tensor):
        if tensor.device.type != "meta" and tensor.data_ptr() not in weights:
            storage = tensor.untyped_storage()
            seen[storage.data_ptr()] = storage.nbytes()
        return tensor

    x = torch.rand(model.input_shape(1), device=model.device, requires_grad=True)
    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model.module(x).sum()
    return sum(seen.values()) + 2 * _input_bytes(model)


def fit_batch(model, requested: int, kind: str = "grad", fraction: float = BUDGET_FRACTION
              ) -> int:
    """``requested`` lowered to what fits ``fraction`` of the memory available now."""
    per_input = max(1, bytes_per_input(model, kind))
    fits = int(available_bytes(model.device) * fraction // per_input)
    return max(1, min(int(requested), fits))


def describe(model, batch: int, kind: str = "grad") -> str:
    """``"batch 4 (≈ 1.2 GB)"`` for messages."""
    gigabytes = batch * bytes_per_input(model, kind) / 1e9
    return f"batch {batch} (≈ {gigabytes:.1f} GB)"
