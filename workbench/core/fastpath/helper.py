"""Building a model's compiled package in a helper process, so the window never waits.

Measured here (EfficientNet-Lite0): compiling on a thread of the window's process took
37 s and stalled the main thread up to 250 ms at a time (tracing and pickling hold the
interpreter lock), and on two cores it halves what the user's own jobs get.  The window
therefore starts ``python -m workbench.core.fastpath.helper`` at a lower priority; it
reads one pickled request on stdin (the model as a
:class:`~workbench.core.remote.refs.ModelRef`, its input size, the precision and the plan
key the window expects), loads the same model, builds and checks the package into the
shared cache, and writes JSON lines on stdout: ``{"progress": f, "message": m}`` while it
works and one ``{"record": {...}}`` (or ``{"error": "..."}``) at the end.  The window then
loads the package on its worker in a fraction of a second (``prepare(build_missing=False)``).
"""

from __future__ import annotations

import json
import os
import pickle
import sys

NICENESS = 10


def request(model, precision: str) -> bytes:
    """The helper's stdin for ``model`` (run by the window, on its worker: hashing the
    weights takes a moment for a large model)."""
    import torch

    from workbench.core.fastpath.plan import plan_for
    from workbench.core.remote.refs import model_ref

    # the same interpreter runs the helper: no versions to compare, and importing
    # torchvision here could race another thread's first import of it
    ref = model_ref(model, versions={"torch": torch.__version__})
    return pickle.dumps({"ref": ref, "input_size": tuple(model.input_size),
                         "precision": precision, "key": plan_for(model, precision).key})


def command() -> list[str]:
    return [sys.executable, "-m", "workbench.core.fastpath.helper"]


class _Lines:
    """A job context that reports progress as JSON lines."""

    def progress(self, fraction: float, message: str = "") -> None:
        _say({"progress": float(fraction), "message": message})

    def check(self) -> None:
        pass

    def partial(self, _value) -> None:
        pass


def _say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def serve(payload: bytes) -> dict:
    """Load the requested model and build its package; returns the build record."""
    import dataclasses

    from workbench.core.fastpath.build import build
    from workbench.core.fastpath.plan import plan_for
    from workbench.core.remote.refs import load_ref

    asked = pickle.loads(payload)  # noqa: S301 - written by this user's own window
    _say({"progress": 0.0, "message": f"Loading {asked['ref'].spec}"})
    model = load_ref(asked["ref"], "the compiler helper")
    if tuple(model.input_size) != tuple(asked["input_size"]):
        model = dataclasses.replace(model, input_size=tuple(asked["input_size"]))
    plan = plan_for(model, asked["precision"])
    if plan.key != asked["key"]:
        return {"state": "eager: the compiler helper saw a different model"}
    return build(model, plan, _Lines())


def main() -> int:
    if hasattr(os, "nice"):
        os.nice(NICENESS)  # the window and its jobs come first
    try:
        _say({"record": serve(sys.stdin.buffer.read())})
    except Exception as exc:  # noqa: BLE001 - reported to the window in one line
        _say({"error": f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"
              if str(exc).strip() else type(exc).__name__})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
