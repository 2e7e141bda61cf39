"""Small helpers shared by tests in several folders."""

from __future__ import annotations

import threading
import time

from workbench.core.jobs import PlainContext


class CancelAfter(PlainContext):
    """A context that cancels itself after ``n`` checks."""

    def __init__(self, n: int):
        super().__init__()
        self.left = n

    def check(self):
        self.left -= 1
        if self.left < 0:
            self.cancel()
        super().check()


def endless_job():
    """``(job, started)``: a job that runs until cancelled, and an event set once it runs."""
    started = threading.Event()

    def job(ctx):
        started.set()
        while True:
            ctx.check()
            time.sleep(0.005)

    return job, started
