"""UMAP in the window's helper process: same maps as in-process, progress, cancel,
recovery after the helper dies, and no torch in the helper."""

import subprocess
import sys

import numpy as np
import pytest

from workbench.core import umap_engine, umap_process
from workbench.core.embedding import project
from workbench.core.embedding.umap_reducer import HelperMap
from workbench.core.jobs import PlainContext
from workbench.errors import Cancelled, WorkbenchError

OPTIONS = {"n_neighbors": 10, "n_epochs": 50, "seed": 0}


@pytest.fixture(scope="module")
def helper():
    process = umap_process.UmapProcess()
    yield process
    process.shutdown()
    assert not process.alive()


def two_blobs(n=300):
    data = np.random.default_rng(0).normal(size=(n, 12)).astype(np.float32)
    data[: n // 2] += 5
    return data


def test_helper_map_equals_the_in_process_map(helper):
    data = two_blobs()
    messages = []
    ctx = PlainContext(on_progress=lambda fraction, text: messages.append(text))
    handle, coords = helper.fit(data, OPTIONS, ctx)
    local, model = umap_engine.fit(data, OPTIONS)
    np.testing.assert_allclose(coords, local, atol=1e-4)
    assert any("epoch" in text for text in messages)
    np.testing.assert_allclose(helper.transform(handle, data[:4]),
                               umap_engine.transform(model, data[:4]), atol=1e-3)


def test_project_routes_through_the_helper_when_enabled(monkeypatch, helper):
    monkeypatch.setattr(umap_process, "_HELPER", helper)
    umap_process.enable()
    try:
        projection = project(two_blobs(), "umap", {"n_epochs": 30, "n_neighbors": 10})
    finally:
        umap_process.enable(False)
    assert isinstance(projection.state[1], HelperMap)
    assert projection.transform(two_blobs()[:3]).shape == (3, 2)


def test_cancel_between_epochs_keeps_the_helper(helper):
    ctx = PlainContext()
    ctx._on_progress = lambda fraction, text: ctx.cancel() if fraction > 0.3 else None
    with pytest.raises(Cancelled):
        helper.fit(two_blobs(), OPTIONS | {"n_epochs": 5000}, ctx)
    assert helper.alive()
    assert helper.fit(two_blobs(60), OPTIONS)[1].shape == (60, 2)


def test_a_dead_helper_is_reported_then_restarted(helper):
    old_map, _ = helper.fit(two_blobs(60), OPTIONS)
    helper._process.kill()
    helper._process.wait()
    with pytest.raises(WorkbenchError, match="too old"):
        helper.transform(old_map, two_blobs(3))  # its maps died with it
    new_map, coords = helper.fit(two_blobs(60), OPTIONS)  # a new helper starts
    assert coords.shape == (60, 2)
    assert helper.transform(new_map, two_blobs(3)).shape == (3, 2)
    with pytest.raises(WorkbenchError, match="too old"):
        helper.transform(old_map, two_blobs(3))


class BrokenHelper(umap_process.UmapProcess):
    """A helper whose interpreter cannot start it (as in a frozen app)."""

    def _command(self, fd):
        return [sys.executable, "-c", "import sys; sys.exit(3)"]


def test_a_helper_that_cannot_start_falls_back_to_this_process(monkeypatch):
    broken = BrokenHelper()
    with pytest.raises(umap_process.HelperUnavailable, match="exit code 3"):
        broken.fit(two_blobs(60), OPTIONS)
    monkeypatch.setattr(umap_process, "_HELPER", broken)
    umap_process.enable()
    try:
        projection = project(two_blobs(60), "umap", {"n_epochs": 20, "n_neighbors": 10})
        assert not umap_process.enabled()  # it does not try again
    finally:
        umap_process.enable(False)
    assert not isinstance(projection.state[1], HelperMap)
    assert projection.coords.shape == (60, 2)


def test_the_helper_does_not_import_torch():
    check = ("import sys, workbench.core.umap_process, workbench.core.umap_engine; "
             "print(sorted(m for m in ('torch', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip() == "[]", out.stderr
