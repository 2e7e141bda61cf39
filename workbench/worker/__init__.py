"""The one background thread that runs core jobs (DESIGN.md §3)."""

from workbench.worker.runner import JobHandle, Runner

__all__ = ["JobHandle", "Runner"]
