"""Where the repository's ``resources/`` folder is (bundled weights, icons, samples)."""

from __future__ import annotations

import os
from pathlib import Path


def resources_dir() -> Path:
    """``$WORKBENCH_RESOURCES`` if set, else ``resources/`` beside the ``workbench`` package."""
    override = os.environ.get("WORKBENCH_RESOURCES")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
