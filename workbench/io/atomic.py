"""Atomic writes: temporary file in the same folder, fsync, then ``os.replace``."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from workbench.errors import WorkbenchError


@contextlib.contextmanager
def atomic_path(target, overwrite: bool = True):
    """Yield a temporary path beside ``target``; on success it replaces ``target``.

    With ``overwrite=False`` an existing ``target`` raises :class:`WorkbenchError`
    before anything is written.
    """
    target = Path(target)
    if not overwrite and target.exists():
        raise WorkbenchError(f"'{target}' already exists; choose another name or allow overwrite")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode_for(target))  # mkstemp makes files only their owner may read
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _mode_for(target: Path) -> int:
    """The mode a plain ``open(target, "w")`` would give: the old file's, or the umask's."""
    if target.exists():
        return target.stat().st_mode & 0o777
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_bytes_atomic(target, data: bytes, overwrite: bool = True) -> Path:
    with atomic_path(target, overwrite) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def save_npy_atomic(target, array, overwrite: bool = True) -> Path:
    import numpy as np

    with atomic_path(target, overwrite) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, array)
    return Path(target)
