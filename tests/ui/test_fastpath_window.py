"""The window's fast path (issue 20): the compiler runs in a helper process while the
window works eagerly, the status bar says when the compiled code is ready, the setting
turns it off, and a model that cannot be compiled says why."""

from __future__ import annotations

import json

import pytest
import torch

from workbench.io.samples import sample_path

BUILD_TIMEOUT = 180_000


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path):
    """A window on digits_lenet with the fast path on and an empty cache."""
    from workbench.ui.main_window import MainWindow

    monkeypatch.setenv("WORKBENCH_COMPILE", "1")
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path))
    win = MainWindow(files=[str(sample_path("chelsea"))], model="digits_lenet", restore=False,
                     compile_models=True)
    qtbot.addWidget(win)
    win.resize(1300, 850)
    win.show()
    yield win
    win.close()
    assert win.fastpath.process is None


def wait_for(qtbot, win, *texts, timeout=BUILD_TIMEOUT):
    qtbot.waitUntil(lambda: win.fastpath.button.text() in texts, timeout=timeout)
    return win.fastpath.button.text()


def test_helper_compiles_while_the_window_works_then_jobs_run_compiled(qtbot, window):
    from workbench.core import fastpath

    win = window
    qtbot.waitUntil(lambda: win.fastpath.process is not None, timeout=60_000)
    assert win.fastpath.button.text().startswith("Compiling")
    predict = win.panels[0]
    qtbot.waitUntil(lambda: predict.prediction is not None, timeout=60_000)  # eagerly, meanwhile
    assert not fastpath.is_ready(win.state.model)
    assert wait_for(qtbot, win, "Fast path ready", "Eager") == "Fast path ready", (
        win.fastpath.tooltip)
    assert "checked against eager" in win.fastpath.tooltip
    assert fastpath.is_ready(win.state.model) and win.fastpath.process is None
    records = list(fastpath.cache_dir().glob("*.json"))
    assert len(records) == 1 and json.loads(records[0].read_text())["state"] == "ready"
    assert any("Fast path ready" in text for _t, text, _e in win.status.messages)
    x = torch.rand(2, 3, 32, 32)
    with torch.inference_mode():
        fast = fastpath.forward(win.state.model, x)
        assert torch.allclose(fast, win.state.model.module(x), rtol=1e-4, atol=1e-5)

    win.fastpath.action.setChecked(False)  # Settings → Compile models off
    qtbot.waitUntil(lambda: not fastpath.is_ready(win.state.model) and win.is_settled(),
                    timeout=30_000)
    assert win.fastpath.button.text() == "Eager" and "off" in win.fastpath.tooltip
    win.fastpath.action.setChecked(True)  # on again: from disk, no helper
    assert wait_for(qtbot, win, "Fast path ready", "Eager", timeout=30_000) == (
        "Fast path ready")
    assert win.fastpath.process is None


def test_a_model_that_failed_before_says_why_without_a_helper(qtbot, window):
    from workbench.core import fastpath
    from workbench.core.fastpath import store

    win = window
    qtbot.waitUntil(lambda: win.fastpath.process is not None, timeout=60_000)
    win.fastpath.close()  # stop the helper: this test writes the outcome itself
    model = win.state.model
    store.write_record(fastpath.plan_of(model), {"state": "eager: compilation failed: X"})
    win.fastpath.follow(model)
    assert wait_for(qtbot, win, "Eager", timeout=30_000) == "Eager"
    assert win.fastpath.process is None and "Compilation failed: X" in win.fastpath.tooltip
