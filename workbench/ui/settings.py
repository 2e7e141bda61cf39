"""Persistent settings (window layout, last choices) in an INI file.

The folder is ``$WORKBENCH_CONFIG_DIR`` if set (tests use a temporary one),
else the platform's per-user config folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths


def config_dir() -> Path:
    override = os.environ.get("WORKBENCH_CONFIG_DIR")
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(base or Path.home() / ".config") / "workbench"


def open_settings() -> QSettings:
    path = config_dir()
    path.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path / "workbench.ini"), QSettings.Format.IniFormat)


def read_bool(settings: QSettings, key: str, default: bool) -> bool:
    value = settings.value(key, default)
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def read_list(settings: QSettings, key: str) -> list[str]:
    value = settings.value(key, [])
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


COMPUTE_KEY = "compute/address"  # "" (this computer), "tcp://…" / "tls://…", or "local:N"
COMPUTE_REMOTE_KEY = "compute/last_scheduler"  # the last scheduler typed, to fill the dialog
COMPUTE_WORKERS_KEY = "compute/local_workers"


def read_compute(settings: QSettings) -> tuple[str, str, int]:
    """Where jobs ran last time: ``(address, last scheduler address, local worker count)``."""
    try:
        workers = max(1, int(settings.value(COMPUTE_WORKERS_KEY, 2) or 2))
    except (TypeError, ValueError):
        workers = 2
    return (str(settings.value(COMPUTE_KEY, "") or ""),
            str(settings.value(COMPUTE_REMOTE_KEY, "") or ""), workers)


def write_compute(settings: QSettings, address: str, scheduler: str, workers: int) -> None:
    settings.setValue(COMPUTE_KEY, address)
    settings.setValue(COMPUTE_REMOTE_KEY, scheduler)
    settings.setValue(COMPUTE_WORKERS_KEY, int(workers))
    settings.sync()
