"""The job contract shared by the GUI worker, the CLI, tests and benchmarks.

A core computation is a plain function ``fn(..., ctx: JobContext)`` that calls
``ctx.check()`` often (raises :class:`~workbench.errors.Cancelled`),
``ctx.progress(fraction, message)`` and optionally ``ctx.partial(result)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from workbench.errors import Cancelled

__all__ = ["Cancelled", "JobContext", "PlainContext"]


class JobContext:
    """Base context: cancellation flag plus progress / partial callbacks.

    Parameters
    ----------
    on_progress
        Called with ``(fraction, message)``; ``fraction`` in [0, 1].
    on_partial
        Called with a partial result for live display.
    cancel_event
        A :class:`threading.Event`; when set, :meth:`check` raises ``Cancelled``.
    """

    def __init__(
        self,
        on_progress: Callable[[float, str], None] | None = None,
        on_partial: Callable[[Any], None] | None = None,
        cancel_event: threading.Event | None = None,
    ):
        self._on_progress = on_progress
        self._on_partial = on_partial
        self.cancel_event = cancel_event or threading.Event()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def cancel(self) -> None:
        self.cancel_event.set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the job was cancelled."""
        if self.cancel_event.is_set():
            raise Cancelled()

    def progress(self, fraction: float, message: str = "") -> None:
        if self._on_progress is not None:
            self._on_progress(min(1.0, max(0.0, float(fraction))), message)

    def partial(self, result: Any) -> None:
        if self._on_partial is not None:
            self._on_partial(result)


class PlainContext(JobContext):
    """A context for the CLI, tests and benchmarks: never cancelled unless asked."""
