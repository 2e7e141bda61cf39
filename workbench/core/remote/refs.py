"""Model references: what a job shipped to a cluster carries instead of the loaded model.

A job is a ``functools.partial`` of a top-level function over picklable arguments
(DESIGN.md §12).  Before it leaves this computer every
:class:`~workbench.core.models.loaded.LoadedModel` among its arguments becomes a small
:class:`ModelRef` (the spec it was loaded from, the device, its weights hash and this
computer's versions); on the worker the actor resolves the reference to the model it holds.
A dense model seen through a target (``workbench.core.tasks.targets.scored_model``) carries
its target, and the worker puts the same score head back on.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ModelRef:
    """A loaded model by name: enough for a worker to load the same one and prove it."""

    spec: str
    device: str
    weights_sha256: str
    versions: dict = field(default_factory=dict, hash=False, compare=False)
    target: Any = None  # a DetectionTarget / RegionTarget for a dense model, else None
    target_text: str = ""  # the target's description (``extras["target"]``)
    checkpoint: Any = None  # CheckpointOptions of a checkpoint file, else None
    download: bool = False
    prompts: tuple = ()  # a CLIP model's prompts (its labels), applied on the worker
    template: str | None = None

    @property
    def key(self) -> tuple:
        """What the actor keeps one loaded model per."""
        return (self.spec, self.device, repr(self.checkpoint), self.weights_sha256,
                self.prompts, self.template)


def is_model(value) -> bool:
    from workbench.core.models.loaded import LoadedModel

    return isinstance(value, LoadedModel)


def dense_target(model):
    """The target a scored dense model was built with (``None`` for a plain model)."""
    if not model.extras.get("dense_task"):
        return None
    from workbench.core.tasks.targets import DetectionScores, RegionTarget

    head = model.module.head
    if isinstance(head, DetectionScores):
        return head.target
    mask = head.mask.detach().cpu().numpy().astype(bool)
    return RegionTarget(label=head.label, mask=mask)


def model_ref(model, device: str | None = None, checkpoint=None, download: bool = False,
              versions: dict | None = None) -> ModelRef:
    """``model`` as a :class:`ModelRef` (``device``: where the worker should put it; by
    default the model's own)."""
    from workbench.core.provenance import weights_sha256
    from workbench.core.remote import cluster

    return ModelRef(str(model.name), str(device or model.device), weights_sha256(model),
                    dict(versions or cluster.versions()), dense_target(model),
                    str(model.extras.get("target", "")) if model.extras.get("dense_task")
                    else "", checkpoint, bool(download),
                    tuple(model.extras.get("prompts", ())), model.extras.get("template"))


def load_ref(ref: ModelRef, where: str = "this process", error=None):
    """The model ``ref`` names, loaded here (a CLIP model's prompts applied) and proven to
    have the caller's weights; ``error`` (a WorkbenchError class) says otherwise."""
    from workbench.core.models import load_model
    from workbench.core.provenance import weights_sha256
    from workbench.errors import WorkbenchError

    model = load_model(ref.spec, device=ref.device, download=ref.download,
                       checkpoint=ref.checkpoint)
    if ref.prompts:  # a CLIP model: the caller's prompts are its labels
        from workbench.core.models.clip_zoo import set_prompts

        set_prompts(model, list(ref.prompts), ref.template)
    have = weights_sha256(model)
    if have != ref.weights_sha256:
        raise (error or WorkbenchError)(
            f"{where} loaded {ref.spec} with other weights (sha256 {have[:12]}…, this "
            f"computer: {ref.weights_sha256[:12]}…): give it the same weights file")
    return model


def _map_values(values, fn):
    if isinstance(values, dict):
        return {name: _map_values(value, fn) for name, value in values.items()}
    if isinstance(values, (list, tuple)) and not hasattr(values, "_fields"):
        return type(values)(_map_values(value, fn) for value in values)
    return fn(values)


def _map_partial(job, fn):
    """``job`` with ``fn`` applied to every argument (into lists, tuples, dicts and a
    nested partial); anything that is not a partial is returned unchanged."""
    if not isinstance(job, functools.partial):
        return job
    inner = _map_partial(job.func, fn)
    return functools.partial(inner, *_map_values(list(job.args), fn),
                             **_map_values(dict(job.keywords), fn))


def models_in(job) -> list:
    """Every loaded model among ``job``'s arguments."""
    found = []

    def visit(value):
        if is_model(value):
            found.append(value)
        return value

    _map_partial(job, visit)
    return found


def to_refs(job, **ref_options):
    """``job`` with every loaded model replaced by its :class:`ModelRef`; the same model
    twice becomes the same reference."""
    refs: dict[int, ModelRef] = {}

    def swap(value):
        if is_model(value):
            if id(value) not in refs:
                refs[id(value)] = model_ref(value, **ref_options)
            return refs[id(value)]
        return value

    return _map_partial(job, swap)


def resolve_refs(job, resolve):
    """``job`` with every :class:`ModelRef` replaced by ``resolve(ref)`` (on the worker),
    and its tensors moved to the model's device (the caller's may be another one)."""
    import torch

    refs = _refs_in(job)
    device = torch.device(refs[0].device) if refs else None

    def swap(value):
        if isinstance(value, ModelRef):
            return resolve(value)
        if device is not None and isinstance(value, torch.Tensor) and value.device != device:
            return value.to(device)
        return value

    return _map_partial(job, swap)


def _refs_in(job) -> list:
    found = []
    _map_partial(job, lambda value: found.append(value) if isinstance(value, ModelRef)
                 else None)
    return found


def apply_target(model, ref: ModelRef):
    """The worker's model seen through the reference's target (unchanged without one)."""
    if ref.target is None:
        return model
    from workbench.core.tasks.targets import scored_model

    scored = scored_model(model, ref.target)
    if ref.target_text:
        scored.extras["target"] = ref.target_text
    return scored


def portable(result):
    """A job's result fit to cross: tensors detached on the CPU (numpy stays numpy); a
    loaded model never crosses."""
    import torch

    if isinstance(result, torch.Tensor):
        return result.detach().cpu()
    if isinstance(result, (np.ndarray, str, bytes, int, float, bool)) or result is None:
        return result
    if is_model(result):
        raise TypeError("a job returned a loaded model: only its results may cross")
    if isinstance(result, (list, tuple, dict)):
        return _map_values(result, portable)
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        changes = {f.name: portable(getattr(result, f.name))
                   for f in dataclasses.fields(result) if f.init}
        if any(changes[name] is not getattr(result, name) for name in changes):
            return dataclasses.replace(result, **changes)
    return result
