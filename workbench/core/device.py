"""Devices the user can pick, and a readable error for one that is missing."""

from __future__ import annotations

from workbench.errors import WorkbenchError


def available_devices() -> list[str]:
    """``cpu`` first, then each CUDA device, then ``mps`` where present."""
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


def resolve_device(name: str | None):
    """A ``torch.device`` for ``name`` (default CPU), checked to exist on this machine."""
    import torch

    name = (name or "cpu").strip().lower()
    if name == "cuda":
        name = "cuda:0"
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise WorkbenchError(f"Unknown device '{name}' (use cpu, cuda, cuda:N or mps)") from exc
    if device.type != "cpu" and str(device) not in available_devices():
        raise WorkbenchError(
            f"Device '{name}' is not available here; available: {', '.join(available_devices())}"
        )
    return device


def is_out_of_memory(exc: BaseException) -> bool:
    """True for a CUDA (or MPS) out-of-memory error."""
    text = f"{type(exc).__name__}: {exc}"
    return "OutOfMemoryError" in text or "out of memory" in text.lower()


def free_device_memory() -> None:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
