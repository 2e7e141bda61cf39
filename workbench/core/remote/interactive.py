"""Interactive jobs on a cluster: the caller's side (DESIGN.md §12).

:class:`RemoteExecutor` sends a job (a ``functools.partial`` ending in ``ctx``) to the
:class:`~.actor.ModelActor` that holds the model, relays its progress and partial results
to the local context while it runs, sets the job's cancel event when the local context is
cancelled (and raises ``Cancelled`` here), and returns its result.  A lost worker or
scheduler is a one-line :class:`~.cluster.ClusterError`; the next run starts a new actor.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import uuid

import cloudpickle

from workbench.core.remote import cluster
from workbench.core.remote.actor import CANCELLED, ModelActor
from workbench.core.remote.cluster import ClusterError
from workbench.core.remote.context import (
    END,
    PARTIAL,
    PROGRESS,
    cancel_name,
    pack,
    queue_name,
    unpack,
)
from workbench.core.remote.refs import to_refs
from workbench.errors import Cancelled

POLL_S = 0.1  # how long one wait for a message lasts (and how often cancel is looked at)
RPC_TIMEOUT_S = 3.0  # one scheduler call longer than this: the scheduler is lost
CANCEL_GRACE_S = 5.0  # how long a cancelled job may take to stop before we stop waiting
ACTOR_START_S = 60.0


def _lost_worker(detail: str) -> ClusterError:
    return ClusterError(f"the worker running the job was lost: {detail}; run it again")


def _lost_scheduler(client, exc) -> ClusterError:
    address = getattr(client.scheduler, "address", "?") if client.scheduler else "?"
    return ClusterError(f"lost the Dask scheduler at {address} ({type(exc).__name__}); "
                        "reconnect, or run on this computer")


class RemoteExecutor:
    """Runs interactive jobs on one actor of ``client``'s cluster.

    ``device`` is where the worker puts the model (default: the local model's own
    device); ``checkpoint`` and ``download`` are passed to its ``load_model``.
    """

    def __init__(self, client, device: str | None = None, checkpoint=None,
                 download: bool = False):
        self.client = client
        self.ref_options = {"device": device, "checkpoint": checkpoint, "download": download}
        self._actor = None
        self._actor_future = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._prefix = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    # ----------------------------------------------------------------- actor
    def placement(self) -> dict:
        """``resources={"GPU": 1}`` when some worker declares a GPU, else anywhere."""
        info = self.client.scheduler_info().get("workers", {})
        if any(row.get("resources", {}).get("GPU", 0) > 0 for row in info.values()):
            return {"resources": {"GPU": 1}}
        return {}

    def actor(self):
        """The actor (created on first use, and again after its worker was lost)."""
        with self._lock:
            if self._actor is None or self._actor_lost():
                self.reset()
                future = self.client.submit(ModelActor, actor=True, pure=False,
                                            key=f"workbench-model-actor-{uuid.uuid4().hex}",
                                            **self.placement())
                try:
                    self._actor = future.result(timeout=ACTOR_START_S)
                except Exception as exc:  # noqa: BLE001 - no worker could take it
                    raise ClusterError(f"could not start the model holder on the cluster: "
                                       f"{type(exc).__name__}: {exc}") from exc
                self._actor_future = future
                self._actor.warm().result(timeout=ACTOR_START_S)
            return self._actor

    def _actor_lost(self) -> bool:
        return self._actor_future is not None and self._actor_future.status != "finished"

    def reset(self) -> None:
        """Forget the actor (its worker was lost); the next run starts a new one."""
        if self._actor_future is not None:
            try:
                self._actor_future.release()
            except Exception:  # noqa: BLE001 - the cluster may be gone already
                pass
        self._actor = self._actor_future = None

    def stats(self) -> dict:
        return self.actor().stats().result(timeout=RPC_TIMEOUT_S)

    # ------------------------------------------------------------------- run
    def run(self, job, ctx):
        """Run ``job(ctx)`` on the actor; returns its result, raises ``Cancelled`` or the
        job's own error, or a :class:`ClusterError` for a lost worker or scheduler."""
        from distributed import Event, Queue

        ctx.check()
        payload = cloudpickle.dumps(to_refs(job, **self.ref_options))
        job_id = f"{self._prefix}-{next(self._ids)}"
        actor = self.actor()
        try:
            queue = Queue(queue_name(job_id), client=self.client)
            event = Event(cancel_name(job_id), client=self.client)
        except OSError as exc:
            raise _lost_scheduler(self.client, exc) from exc
        future = actor.run(cluster.versions(), payload, job_id)
        relay = _Relay(queue, ctx)
        try:
            status, result = self._follow(future, relay, event, ctx)
        finally:
            relay.stop()
            self._forget(queue, event)
        if status == CANCELLED:
            raise Cancelled()
        return result

    def _follow(self, future, relay, event, ctx):
        """Wait for the job's last message, watching cancel, the worker and the scheduler;
        then its outcome."""
        cancel_sent = None
        done_since = None
        while not relay.ended.wait(POLL_S):
            if relay.error is not None:
                raise _lost_scheduler(self.client, relay.error)
            if cancel_sent is None and ctx.cancelled:
                cancel_sent = time.monotonic()
                relay.muted = True
                self._call(self._set_event, name=event.name)
            if cancel_sent is not None and time.monotonic() - cancel_sent > CANCEL_GRACE_S:
                raise Cancelled()  # the job ignores cancellation; stop waiting for it
            self._check_alive()
            if future.done():  # its last message is on the way; give it a moment
                done_since = done_since or time.monotonic()
                if time.monotonic() - done_since > RPC_TIMEOUT_S:
                    self._outcome(future)
                    raise _lost_worker("the job ended without its last message")
        if relay.error is not None:
            raise _lost_scheduler(self.client, relay.error)
        status, result = self._outcome(future)
        if cancel_sent is not None:
            raise Cancelled()
        return status, result

    def _outcome(self, future):
        """The job's ``(status, result)``; its own error is raised as is."""
        try:
            return future.result(timeout=RPC_TIMEOUT_S * 2)
        except OSError as exc:
            self.reset()
            raise _lost_worker(str(exc)) from exc

    def _call(self, fn, **kwargs):
        """One scheduler call, bounded: a lost scheduler is a clear error within seconds."""
        try:
            return fn(callback_timeout=RPC_TIMEOUT_S, **kwargs)
        except (OSError, TimeoutError) as exc:
            raise _lost_scheduler(self.client, exc) from exc

    def _set_event(self, name: str, callback_timeout: float):
        return self.client.sync(self.client.scheduler.event_set, name=name,
                                callback_timeout=callback_timeout)

    def _check_alive(self) -> None:
        """Between waits: the scheduler still connected, the actor's worker still there."""
        if self.client.status != "running":
            raise _lost_scheduler(self.client, ConnectionError(f"client {self.client.status}"))
        if self._actor_lost():
            status = self._actor_future.status if self._actor_future else "?"
            self.reset()
            raise _lost_worker(f"the model holder is {status}")

    def _forget(self, queue, event) -> None:
        try:
            queue.close()
            if self.client.status == "running":
                self.client.sync(self.client.scheduler.event_clear, name=event.name,
                                 callback_timeout=RPC_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - cleanup of a lost cluster
            pass


class _Relay:
    """A thread that reads the job's messages (a blocking ``Queue.get``: no polling of the
    scheduler) and hands progress and partial results to the local context."""

    def __init__(self, queue, ctx):
        self.queue, self.ctx = queue, ctx
        self.ended = threading.Event()
        self.error: BaseException | None = None
        self.muted = False  # after Cancel: nothing more reaches the caller
        self._thread = threading.Thread(target=self._run, name="workbench-remote-relay",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                message = unpack(self.queue.get())
                kind = message[0]
                if kind == END:
                    return
                if self.muted:
                    continue
                if kind == PROGRESS:
                    self.ctx.progress(message[1], message[2])
                elif kind == PARTIAL:
                    self.ctx.partial(message[1])
        except Exception as exc:  # noqa: BLE001 - the scheduler lost; the caller says so
            self.error = exc
        finally:
            self.ended.set()

    def stop(self) -> None:
        """Unblock the reader if the job's last message never came (worker lost)."""
        if not self.ended.is_set():
            try:
                self.queue.put(pack(END), callback_timeout=1.0)
            except Exception:  # noqa: BLE001 - the scheduler is gone too; the thread is a daemon
                pass
            self.ended.wait(1.0)


# ------------------------------------------------------------ the command line
_EXECUTORS: dict[tuple, RemoteExecutor] = {}


def call_job(fn, fn_args: tuple, fn_kwargs: dict, pass_ctx: bool, ctx):
    """A command's core call as a job ``partial(call_job, fn, args, kwargs, pass_ctx)(ctx)``
    (``ctx`` is passed as ``ctx=`` when the core function takes one)."""
    return fn(*fn_args, **fn_kwargs, ctx=ctx) if pass_ctx else fn(*fn_args, **fn_kwargs)


def executor_for(address: str, device: str | None = None, checkpoint=None,
                 download: bool = False) -> RemoteExecutor:
    """One executor per address and model options for the life of the process."""
    key = (address, device, repr(checkpoint), download)
    if key not in _EXECUTORS:
        _EXECUTORS[key] = RemoteExecutor(cluster.connect(address), device, checkpoint,
                                         download)
    return _EXECUTORS[key]


def run_call(executor: RemoteExecutor, fn, fn_args, fn_kwargs, ctx=None):
    """``fn(*fn_args, **fn_kwargs[, ctx=ctx])`` on the cluster, as the command would call it."""
    import functools

    from workbench.core.jobs import PlainContext

    job = functools.partial(call_job, fn, tuple(fn_args), dict(fn_kwargs), ctx is not None)
    return executor.run(job, ctx if ctx is not None else PlainContext())
