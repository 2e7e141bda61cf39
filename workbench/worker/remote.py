"""The runner's remote backend: jobs over a loaded model run on a Dask cluster.

``Runner.set_backend(executor)`` routes every job through :class:`RemoteBackend`: a job
that is a ``functools.partial`` over a loaded model (``partial(map_job, model, ...)``) goes
to the cluster's actor through :class:`~workbench.core.remote.interactive.RemoteExecutor`
— same signals, supersede and cancel as locally, since the runner's context is relayed —
and every other job (loading a model, reading a file) stays on this computer's worker
thread, where the loaded model lives.
"""

from __future__ import annotations

import functools


def ships(fn) -> bool:
    """True for a job that runs on the cluster: a partial with a loaded model among its
    arguments."""
    from workbench.core.remote.refs import models_in

    return isinstance(fn, functools.partial) and bool(models_in(fn))


class RemoteBackend:
    """What the runner calls instead of ``fn(ctx)`` while a cluster is set."""

    def __init__(self, executor):
        self.executor = executor

    def run(self, fn, ctx):
        if not ships(fn):
            return fn(ctx)
        return self.executor.run(fn, ctx)

    @property
    def client(self):
        return self.executor.client


def as_backend(executor_or_backend):
    """A :class:`RemoteBackend` around an executor (``None`` stays ``None``)."""
    if executor_or_backend is None or isinstance(executor_or_backend, RemoteBackend):
        return executor_or_backend
    return RemoteBackend(executor_or_backend)
