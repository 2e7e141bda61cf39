"""Compiled packages on disk: ``<cache>/fastpath/<plan key>.pt2`` beside a ``.json``
record of how the build went (also kept for a model that failed, so it is not retried at
every start; a new torch or format version gives a new key, and so a new try)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

KEEP_PACKAGES = 16  # the newest packages kept (each holds a copy of its model's weights)


def cache_dir() -> Path:
    from workbench.io.samples import samples_cache_dir

    return samples_cache_dir().parent / "fastpath"


def inductor_cache_dir() -> Path:
    """Inductor's own on-disk cache (kernels) inside Workbench's cache folder."""
    return cache_dir().parent / "inductor"


def use_workbench_cache() -> None:
    """Point inductor's caches at :func:`inductor_cache_dir` unless the user chose one
    (``TORCHINDUCTOR_CACHE_DIR``; inductor writes its own default there on first use,
    which does not count)."""
    from torch._inductor.runtime.cache_dir_utils import default_cache_dir

    if os.environ.get("TORCHINDUCTOR_CACHE_DIR") in (None, "", default_cache_dir()):
        path = inductor_cache_dir()
        path.mkdir(parents=True, exist_ok=True)
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(path)


def package_path(plan) -> Path:
    return cache_dir() / f"{plan.key}.pt2"


def record_path(plan) -> Path:
    return cache_dir() / f"{plan.key}.json"


def read_record(plan) -> dict | None:
    """The build record of ``plan`` (``None`` when never built, or when a "ready" record
    has lost its package)."""
    try:
        record = json.loads(record_path(plan).read_text())
    except (OSError, ValueError):
        return None
    if record.get("state") == "ready" and not package_path(plan).is_file():
        return None
    return record


def write_record(plan, record: dict) -> None:
    from dataclasses import asdict

    record = {**record, "plan": asdict(plan), "written": time.time()}
    _atomic_write(record_path(plan), json.dumps(record, indent=1, default=str).encode())


def temporary_package(plan) -> Path:
    """A fresh path in the cache folder to build into (moved in place by
    :func:`commit_package`, so a reader never sees half a package)."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{plan.key}-", suffix=".pt2", dir=cache_dir())
    os.close(handle)
    return Path(name)


def commit_package(plan, built: Path) -> None:
    os.replace(built, package_path(plan))
    prune()


def prune(keep: int = KEEP_PACKAGES) -> None:
    """Delete all but the ``keep`` most recently used packages (with their records) and
    all but the ``4 × keep`` newest records of failed builds."""
    def newest_first(pattern):
        return sorted(cache_dir().glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)

    for old in newest_first("*.pt2")[keep:]:
        for path in (old, old.with_suffix(".json")):
            path.unlink(missing_ok=True)
        shutil.rmtree(old.with_name(old.name + ".d"), ignore_errors=True)
    failed = [r for r in newest_first("*.json") if not r.with_suffix(".pt2").exists()]
    for old in failed[4 * keep:]:
        old.unlink(missing_ok=True)


def touch(plan) -> None:
    """Mark ``plan``'s package as just used (pruning keeps the most recently used)."""
    try:
        os.utime(package_path(plan))
    except OSError:
        pass


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
