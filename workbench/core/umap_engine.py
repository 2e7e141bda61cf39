"""umap-learn itself: numba's on-disk cache, fit, transform and warm-up.

McInnes, Healy & Melville, "UMAP: Uniform Manifold Approximation and Projection for
Dimension Reduction", 2018, https://arxiv.org/abs/1802.03426 (umap-learn).

No torch and no Qt here: this runs in the caller's process (the CLI, tests) or in the
window's UMAP helper process (:mod:`workbench.core.umap_process`), which imports only
this module and numpy.

Compilation.  umap-learn compiles its numba kernels on the first call in every process
(22–66 s on a 2-core machine).  pynndescent marks most of its kernels ``cache=True``, but
umap-learn 0.5 does not (only one small function in ``umap/layouts.py``), nor do
pynndescent's NN-descent helpers, so that compiled code was thrown away at exit.
:func:`enable_numba_cache` turns numba's on-disk cache on for those module-level kernels
before they compile; the cache goes to each package's ``__pycache__`` when site-packages
is writable, else to ``$NUMBA_CACHE_DIR`` or ``~/.cache/numba``.  ``nn_descent`` itself
cannot be cached (numba: "uses dynamic globals") and compiles in each process (~10 s
here) the first time a map has more than 4 096 points.  Measured here: first UMAP of the
digits in a new process 20 s → 4.6 s, first transform 5.3 s → 0.2 s; :func:`warm_up` in
a new process 131 s with an empty cache, 18 s with it.
"""

from __future__ import annotations

import re
import threading
import time

import numpy as np

from workbench.errors import Cancelled

_UMAP_MODULES = ("umap.distances", "umap.utils", "umap.layouts", "umap.sparse", "umap.umap_",
                 "umap.spectral", "pynndescent.pynndescent_", "pynndescent.utils",
                 "pynndescent.kernels", "pynndescent.distances", "pynndescent.rp_trees",
                 "pynndescent.graph_utils", "pynndescent.search")
# umap-learn finds neighbours exactly below 4096 points and with NN-descent above; fit and
# transform take different compiled paths on each side, so the warm-up visits both.
WARM_UP_SIZES = (200, 4200)
# numba refuses to cache these ("uses dynamic globals"): they compile in every process.
_UNCACHEABLE = {"nn_descent", "nn_descent_internal"}
_LOCK = threading.Lock()
# what a fit reports, wherever it runs: neighbours first, then the layout's epochs
NEIGHBOURS_PROGRESS = (0.1, "UMAP: finding neighbours")
_STATE = {"cache_enabled": False, "warm": set()}


def enable_numba_cache() -> int:
    """Turn on numba's on-disk cache for umap-learn's kernels; returns how many were enabled.

    Must run before the kernels compile (import time is fine; fitting is too late for
    this process).  Safe to call repeatedly.
    """
    import importlib

    with _LOCK:
        if _STATE["cache_enabled"]:
            return 0
        from numba.core.caching import NullCache
        from numba.core.registry import CPUDispatcher

        count = 0
        for name in _UMAP_MODULES:
            module = importlib.import_module(name)
            for value in vars(module).values():
                if (isinstance(value, CPUDispatcher) and isinstance(value._cache, NullCache)
                        and value.__name__ not in _UNCACHEABLE):
                    value.enable_caching()
                    count += 1
        _STATE["cache_enabled"] = True
        return count


def epoch_progress(done: int, total: int) -> tuple[float, str]:
    """``(fraction, message)`` of a fit after ``done`` of ``total`` layout epochs."""
    return 0.3 + 0.7 * done / total, f"UMAP epoch {done} / {total}"


class _EpochStream:
    """A file for umap's tqdm bar: ``n/total`` goes to ``report(done, total)``, which may
    raise :class:`Cancelled` to stop between epochs."""

    def __init__(self, report):
        self.report = report
        self.raised = False

    def write(self, text: str) -> None:
        found = re.findall(r"(\d+)/(\d+)", text)
        done, total = (int(v) for v in found[-1]) if found else (-1, 0)
        if self.raised:
            return
        try:
            self.report(done, total)
        except Cancelled:
            self.raised = True
            raise

    def flush(self) -> None:
        pass


def release_tqdm_lock() -> None:
    """Give back tqdm's process-wide lock after a cancel raised inside its bar.

    ``tqdm.refresh`` acquires the lock, writes to the bar's file and releases it with no
    ``try`` / ``finally``, so :class:`_EpochStream` raising :class:`Cancelled` leaves the
    lock held by this thread; every later tqdm bar created on another thread (even a
    disabled one, e.g. ``torch.fx``'s) would then wait forever.  At this point no tqdm
    call of ours is running, so whatever this thread still holds is the leak.
    """
    from tqdm import tqdm

    for lock in tqdm.get_lock().locks:
        while _held_here(lock):
            lock.release()


def _held_here(lock) -> bool:
    semlock = getattr(lock, "_semlock", None)  # a multiprocessing RLock
    if semlock is not None:
        return bool(semlock._is_mine())
    owned = getattr(lock, "_is_owned", None)  # a threading RLock
    return bool(owned()) if owned is not None else False


def fit(data: np.ndarray, options: dict, report=None):
    """``(coords (N, 2) float32, fitted UMAP)`` for ``data`` ``(N, D)``.

    ``options``: ``n_neighbors``, ``min_dist``, ``metric``, ``seed`` (−1: not
    reproducible, all cores) and ``n_epochs`` (0: umap's default).  ``report(done, total)``
    is called between layout epochs (``done`` −1 when unknown) and may raise
    :class:`Cancelled`.
    """
    enable_numba_cache()
    from umap import UMAP

    seed = int(options.get("seed", 0))
    quiet = {"disable": True}
    progress = {"disable": False, "file": _EpochStream(report), "bar_format": "{n}/{total}",
                "mininterval": 0.1, "ascii": True}
    model = UMAP(
        n_neighbors=max(2, min(int(options.get("n_neighbors", 15)), len(data) - 1)),
        min_dist=float(options.get("min_dist", 0.1)), metric=options.get("metric", "euclidean"),
        n_epochs=int(options.get("n_epochs", 0)) or None,
        random_state=seed if seed >= 0 else None, n_jobs=1 if seed >= 0 else -1,
        tqdm_kwds=progress if report is not None else quiet,
    )
    try:
        coords = model.fit_transform(data)
    except Cancelled:
        release_tqdm_lock()
        raise
    model.tqdm_kwds = quiet  # transform later must not report to this fit's job
    return np.asarray(coords, np.float32), model


def transform(model, data: np.ndarray) -> np.ndarray:
    """Coordinates ``(M, 2)`` of new points ``(M, D)`` in a fitted map."""
    return np.asarray(model.transform(data), np.float32)


def warm_up(parallel: bool = False) -> float:
    """Compile (or load from the numba cache) UMAP's fit and transform; returns seconds.

    Fits 200 and 4 200 random points (exact and NN-descent neighbours) and places 5 new
    ones.  ``parallel`` also compiles the multi-threaded layout used with ``seed=-1``.
    """
    start = time.perf_counter()
    enable_numba_cache()
    rng = np.random.default_rng(0)
    for seed in ((0, -1) if parallel else (0,)):
        if seed in _STATE["warm"]:
            continue
        for size in WARM_UP_SIZES:
            data = rng.normal(size=(size, 8)).astype(np.float32)
            _, model = fit(data, {"n_neighbors": 10, "seed": seed, "n_epochs": 10})
            transform(model, data[:5])
        _STATE["warm"].add(seed)
    return time.perf_counter() - start
