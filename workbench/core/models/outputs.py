"""Networks whose forward returns a tuple, a dict or an object with ``.logits``: which of
their outputs is the score.

Candidates are named by tuple index (``"0"``), dict key (``"logits"``) or attribute name;
only ``(N, K)`` tensors are candidates.  The default is the one named ``logits`` when
there is one, else the first.
"""

from __future__ import annotations

import torch

from workbench.errors import ModelLoadError


def named_outputs(out) -> list[tuple[str, object]]:
    """``(name, value)`` of each part of a non-tensor output, in order."""
    if isinstance(out, (tuple, list)):
        return [(str(i), v) for i, v in enumerate(out)]
    if isinstance(out, dict):  # also transformers' ModelOutput (an OrderedDict)
        return [(str(k), v) for k, v in out.items()]
    fields = getattr(out, "__dict__", None) or {
        k: getattr(out, k, None) for k in dir(out) if not k.startswith("_")}
    return [(k, v) for k, v in fields.items() if not k.startswith("_") and not callable(v)]


def output_candidates(out, batch: int) -> list[str]:
    """Names of the ``(batch, K)`` float tensors among ``out``'s parts."""
    return [name for name, value in named_outputs(out)
            if isinstance(value, torch.Tensor) and value.ndim == 2 and value.shape[0] == batch
            and value.is_floating_point()]


def choose_output(candidates: list[str], wanted: str | None, found: list[str], name: str) -> str:
    """The candidate to use: ``wanted`` if given (it must be one), else ``logits``, else the
    first; a clear message when there is none."""
    if wanted is not None:
        if wanted not in candidates:
            raise ModelLoadError(
                f"Model {name} has no output '{wanted}'; its (N, classes) outputs are: "
                f"{', '.join(candidates) or 'none'} (of {', '.join(found) or 'nothing'})")
        return wanted
    if not candidates:
        raise ModelLoadError(
            f"Model {name} returns {', '.join(found) or 'nothing'} but none is (N, classes); "
            "a classifier must return (N, classes)")
    return "logits" if "logits" in candidates else candidates[0]


def pick_output(out, name: str) -> torch.Tensor:
    """The part of ``out`` called ``name`` (see :func:`named_outputs`)."""
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)):
        return out[int(name)]
    if isinstance(out, dict):
        return out[name] if name in out else next(v for k, v in out.items() if str(k) == name)
    return getattr(out, name)
