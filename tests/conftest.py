"""Shared test setup: offscreen Qt, a private settings folder, small helpers."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
os.environ["WORKBENCH_CONFIG_DIR"] = tempfile.mkdtemp(prefix="workbench-test-config-")
atexit.register(shutil.rmtree, os.environ["WORKBENCH_CONFIG_DIR"], ignore_errors=True)
os.environ["WORKBENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="workbench-test-cache-")
# windows in tests never start the compiler helper; the fast path's own tests turn it on
os.environ["WORKBENCH_COMPILE"] = "0"
atexit.register(shutil.rmtree, os.environ["WORKBENCH_CACHE_DIR"], ignore_errors=True)

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def lite0():
    from workbench.core.models import load_model

    return load_model("efficientnet_lite0")


@pytest.fixture(scope="session")
def sample_image():
    from workbench.io.images import load_image
    from workbench.io.samples import sample_path

    def load(name: str):
        return load_image(sample_path(name))

    return load


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: heavy (compiles or trains for tens of seconds); "
                            "runs only with WORKBENCH_SLOW_TESTS=1")


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``slow`` unless ``WORKBENCH_SLOW_TESTS`` is set (the suite stays
    within its ten minutes; the heavy ones are run before a release)."""
    if os.environ.get("WORKBENCH_SLOW_TESTS"):
        return
    skip = pytest.mark.skip(reason="heavy: set WORKBENCH_SLOW_TESTS=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
