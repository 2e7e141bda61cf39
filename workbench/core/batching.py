"""Batch sizes that suit the device, found while doing the real work.

On a GPU larger batches are faster per image until memory runs out; on a CPU
the best batch is often 2–4 (bigger ones become memory-bound).  Rather than
guessing, :class:`AdaptiveBatcher` doubles the batch from 1 while the time per
image keeps falling, then settles on the best size; every batch it times is a
real batch of the job, so the search costs nothing extra.  The settled size is
remembered per model, device and input shape.
"""

from __future__ import annotations

import time

_SETTLED: dict[tuple, int] = {}
WORSE_TOLERANCE = 1.05  # a size must be 5 % worse per image to count as worse
PATIENCE = 2  # sizes in a row that are worse before settling


def model_key(model) -> tuple:
    return (id(model.module), str(model.device), tuple(model.input_size))


class AdaptiveBatcher:
    """``size()`` gives the next batch size; ``record(size, seconds)`` reports how it went."""

    def __init__(self, key: tuple, cap: int, fixed: int = 0):
        self.key, self.cap = key, max(1, cap)
        self.fixed = fixed
        self.settled = fixed or _SETTLED.get(key)
        self._trial = 1
        self._best: tuple[float, int] | None = None
        self._worse = 0

    def size(self) -> int:
        if self.settled:
            return min(self.settled, self.cap)
        return min(self._trial, self.cap)

    def record(self, size: int, seconds: float) -> None:
        if self.settled:
            return
        per_image = seconds / size
        if self._best is None or per_image * WORSE_TOLERANCE < self._best[0]:
            self._best, self._worse = (per_image, size), 0
        elif per_image > self._best[0] * WORSE_TOLERANCE:
            self._worse += 1
        if self._worse >= PATIENCE or size >= self.cap:
            self.settled = self._best[1]
            _SETTLED[self.key] = self.settled
        else:
            self._trial = size * 2

    def timed(self):
        """Context helper: ``with batcher.timed() as size: ...`` records the elapsed time."""
        return _Timing(self)


class _Timing:
    def __init__(self, batcher: AdaptiveBatcher):
        self.batcher = batcher

    def __enter__(self) -> int:
        self.size = self.batcher.size()
        self.start = time.perf_counter()
        return self.size

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            self.batcher.record(self.size, time.perf_counter() - self.start)
        return False
