"""Timing helpers: interleaved measurements so the limit and the project share the machine's mood.

On a shared 2-core machine single timings swing ±25 %; every figure here is
the median of many rounds, and a ratio is taken round by round with the two
contenders interleaved (DESIGN.md §9).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Row:
    """One line of the benchmark table."""

    operation: str
    ours_ms: float
    limit_ms: float
    target: str
    peer: str = ""
    unit: str = "ms"
    paired_ratio: float | None = None  # median of per-round ratios, when measured so

    @property
    def ratio(self) -> float:
        if self.paired_ratio is not None:
            return self.paired_ratio
        return self.ours_ms / self.limit_ms if self.limit_ms else float("nan")


def _synchronize() -> None:
    """Wait for queued GPU work, so that a timing covers it (no-op on the CPU)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def timed(fn: Callable[[], object]) -> float:
    _synchronize()
    start = time.perf_counter()
    fn()
    _synchronize()
    return (time.perf_counter() - start) * 1000.0


def interleaved(ours: Callable, limit: Callable, rounds: int = 30, warmup: int = 3):
    """Median milliseconds of ``ours`` and ``limit``, alternating which runs first."""
    ours_ms, limit_ms, _ = paired(ours, limit, rounds, warmup)
    return ours_ms, limit_ms


def paired(ours: Callable, limit: Callable, rounds: int = 30, warmup: int = 3):
    """``(median ours ms, median limit ms, median of the per-round ratios ours / limit)``.

    Each round times both back to back (alternating which goes first), so the ratio of a
    round sees the same machine; its median is steadier than the ratio of the medians on
    a machine whose speed drifts by 10 % from minute to minute.
    """
    for _ in range(warmup):
        ours()
        limit()
    a, b = [], []
    for i in range(rounds):
        if i % 2:
            a.append(timed(ours))
            b.append(timed(limit))
        else:
            b.append(timed(limit))
            a.append(timed(ours))
    ratios = [x / y for x, y in zip(a, b, strict=True)]
    return statistics.median(a), statistics.median(b), statistics.median(ratios)


def print_table(rows: list[Row]) -> None:
    width = max([34] + [len(row.operation) for row in rows])
    header = f"{'operation':<{width}} {'ours':>12} {'limit':>12} {'ratio':>7}  target / peer"
    print(header)
    print("-" * len(header))
    for row in rows:
        extra = row.target + (f"; {row.peer}" if row.peer else "")
        ours = f"{row.ours_ms:.2f} {row.unit}"
        limit = f"{row.limit_ms:.2f} {row.unit}"
        print(f"{row.operation:<{width}} {ours:>12} {limit:>12} {row.ratio:>6.2f}×  {extra}")
