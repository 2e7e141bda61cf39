"""The Dask actor that holds loaded models on a worker and runs interactive jobs on them.

One actor serves one caller (a window or a command): it loads a model once per
(spec, device, checkpoint) and keeps it, so a click costs the job, not a load.  A job
arrives as its versions plus the pickled partial (with :class:`~.refs.ModelRef` for every
model); the versions and the weights hash are checked before anything runs.
"""

from __future__ import annotations

import os
import pickle
import threading

from workbench.core.remote.cluster import ClusterError, version_mismatch
from workbench.errors import Cancelled

CANCELLED = "cancelled"
OK = "ok"


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except Exception:  # noqa: BLE001 - outside a worker (tests calling it directly)
        return f"pid {os.getpid()}"


class ModelActor:
    """Loaded models on one worker; ``run`` executes a shipped job with a remote context."""

    def __init__(self):
        self._models: dict[tuple, object] = {}
        self._lock = threading.Lock()
        self.loads = 0
        self.address = _worker_address()

    # ----------------------------------------------------------------- models
    def model(self, ref):
        """The loaded model ``ref`` names (loaded on first use), seen through its target."""
        from workbench.core.remote.refs import apply_target, load_ref

        with self._lock:
            model = self._models.get(ref.key)
            if model is None:
                model = load_ref(ref, f"the worker {self.address}", ClusterError)
                self.loads += 1
                self._models[ref.key] = model
        return apply_target(model, ref)

    def stats(self) -> dict:
        """What the tests and the status bar ask: loads so far, models held, where."""
        return {"loads": self.loads, "models": [key[0] for key in self._models],
                "address": self.address, "pid": os.getpid()}

    def warm(self) -> str:
        """Open the worker's connection to the scheduler (events and queues) ahead of jobs."""
        from distributed import get_client

        get_client()
        return self.address

    # ------------------------------------------------------------------- jobs
    def run(self, versions: dict, payload: bytes, job_id: str):
        """Run the pickled job; ``("ok", result)`` or ``("cancelled", None)``.

        Refuses (``ClusterError``) a job from a computer with other Workbench, torch or
        torchvision versions, naming which; every other failure is the job's own error.
        """
        from workbench.core.remote import cluster
        from workbench.core.remote.context import RemoteContext
        from workbench.core.remote.refs import portable, resolve_refs

        ctx = RemoteContext(job_id)
        try:
            wrong = version_mismatch(versions, cluster.versions())
            if wrong:
                raise ClusterError(f"the worker {self.address} refuses the job: it has "
                                   f"{wrong}; install the same versions on both")
            job = resolve_refs(pickle.loads(payload), self.model)
            try:
                return OK, portable(job(ctx))
            except Cancelled:
                return CANCELLED, None
        finally:
            ctx.end()
