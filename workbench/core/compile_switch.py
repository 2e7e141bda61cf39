"""Whether the compiled fast path is allowed at all (torch-free: the window reads it at
start-up; the fast path itself is :mod:`workbench.core.fastpath`)."""

from __future__ import annotations

import os

OFF_WORDS = ("0", "off", "false", "no")


def enabled_by_env() -> bool:
    """False when ``WORKBENCH_COMPILE`` is ``0`` / ``off`` / ``false`` / ``no``."""
    return os.environ.get("WORKBENCH_COMPILE", "1").strip().lower() not in OFF_WORDS
