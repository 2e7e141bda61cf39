"""What one compiled package is built for, and which models are compiled at all.

A :class:`Plan` names everything the compiled code depends on — the network's weights
(by hash), the input shape, the device, the numeric precision, the feature layer whose
pooled output it also returns, and the versions of torch and of this format — so a
package found on disk under its key is one built for exactly this model here.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

FORMAT = 2  # bump when what a package holds or returns changes (2: features pooled in the hook)
PRECISIONS = ("float32", "tf32", "bfloat16")
DEFAULT_PRECISION = "float32"


@dataclass(frozen=True)
class Plan:
    spec: str  # the model's name or path (for people reading the cache; not trusted)
    weights_sha256: str
    input_shape: tuple[int, ...]  # (3, H, W)
    device: str
    precision: str = DEFAULT_PRECISION
    feature_layer: str | None = None  # the package also returns this layer's pooled output
    host: str = ""  # the CPU or GPU it is compiled for (a shared cache serves several)
    torch_version: str = torch.__version__
    format: int = FORMAT

    @property
    def key(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:24]


def refusal(model) -> str | None:
    """Why ``model`` is never compiled (``None``: it may be)."""
    if model.task != "classification" or model.extras.get("dense_task"):
        task = model.extras.get("dense_task") or model.task
        return f"{task} models run eagerly (only classifiers are compiled)"
    if model.kind != "image":
        return f"{model.kind} models run eagerly (only image classifiers are compiled)"
    if isinstance(getattr(model.module, "net", None), torch.jit.ScriptModule):
        return "TorchScript networks run as they are"
    if model.device.type not in ("cpu", "cuda"):
        return f"{model.device.type} models run eagerly (compiled for cpu and cuda only)"
    return None


def check_precision(precision: str, device) -> str | None:
    """Why ``precision`` cannot be used on ``device`` (``None``: it can)."""
    if precision not in PRECISIONS:
        return f"unknown precision '{precision}' (use {', '.join(PRECISIONS)})"
    if precision == "tf32" and torch.device(device).type != "cuda":
        return "TF32 exists only on CUDA"
    return None


def feature_layer_of(model) -> str | None:
    """The embeddings' default layer (the package returns its pooled output too)."""
    from workbench.core.embedding.features import default_layer

    try:
        return default_layer(model)
    except Exception:  # noqa: BLE001 - no layer to take features from: logits only
        return None


@functools.lru_cache(maxsize=8)
def host_of(device: str) -> str:
    """What compiled code depends on besides torch: the GPU's name and compute capability,
    or the CPU's model and instruction-set flags (inductor compiles for this CPU's ISA)."""
    dev = torch.device(device)
    if dev.type == "cuda":
        index = dev.index or 0
        major, minor = torch.cuda.get_device_capability(index)
        return f"{torch.cuda.get_device_name(index)} sm_{major}{minor}"
    described = [platform.machine(), platform.processor()]
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "flags")) and line not in described:
                described.append(line)
            if len(described) >= 4:
                break
    except OSError:
        pass
    return hashlib.sha256("\n".join(described).encode()).hexdigest()[:16]


def plan_for(model, precision: str = DEFAULT_PRECISION, features: bool = True) -> Plan:
    from workbench.core.provenance import weights_sha256

    return Plan(str(model.name), weights_sha256(model), (3, *model.input_size),
                str(model.device), precision, feature_layer_of(model) if features else None,
                host_of(str(model.device)))
