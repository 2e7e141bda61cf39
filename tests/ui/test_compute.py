"""Settings → Compute… on a real Dask LocalCluster (two worker processes on 127.0.0.1):
the status bar shows the workers, Grad-CAM runs through the backend, an unreachable or
lost scheduler says so and the window keeps working here; nothing is ever asked."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from tests.remote.conftest import client, cluster  # noqa: F401 - the session's real cluster
from workbench.ui import compute, compute_dialog
from workbench.ui.settings import read_compute, write_compute

TIMEOUT = 60_000


@pytest.fixture
def window(open_window, monkeypatch):
    def never(*_args, **_kwargs):
        raise AssertionError("a test must never be asked anything")

    monkeypatch.setattr(QMessageBox, "question", never)
    monkeypatch.delenv("WORKBENCH_CONNECT", raising=False)
    win = open_window("Attribution")
    attribution = win.panel("Attribution")
    attribution.window_ = win
    return win


def choose_in_dialog(qtbot, win, address: str):
    win.compute_action.trigger()
    dialog = win.compute.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.set_address(address)
    qtbot.mouseClick(dialog.ok, qtbot_left())
    return dialog


def qtbot_left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_cluster_by_address_then_back_to_this_computer(qtbot, window, cluster):  # noqa: F811
    win, attribution = window, window.panel("Attribution")
    qtbot.waitUntil(lambda: attribution.result is not None, timeout=TIMEOUT)
    local_heat = attribution.result.heat.copy()
    assert win.status.where.text() == "This computer (cpu)"
    dialog = choose_in_dialog(qtbot, win, cluster.scheduler_address)
    qtbot.waitUntil(lambda: win.compute.client is not None or dialog.here.isVisible(),
                    timeout=40_000)  # the workers import torch to list their devices
    assert win.compute.client is not None, dialog.message.text()
    assert win.compute.dialog is None  # accepted and gone
    where = win.status.where
    assert where.text().startswith(f"Cluster {cluster.scheduler_address}: 2 workers — w")
    assert "1 thread" in where.toolTip() and "GiB" in where.toolTip()
    if getattr(win.runner, "backend", None) is not None and win.compute.executor is not None:
        assert win.runner.backend().executor is win.compute.executor
        before = attribution.result
        attribution.refresh_now()
        qtbot.waitUntil(lambda: attribution.result is not before, timeout=TIMEOUT)
        assert attribution.view.overlay.image is not None
        assert win.compute.executor._actor is not None  # it ran on the cluster's actor
        np.testing.assert_allclose(attribution.result.heat, local_heat, atol=1e-4)
    win.compute.refresh()  # what the 10 s timer does, off the GUI thread
    qtbot.waitUntil(lambda: not win.compute._refreshing, timeout=10_000)
    assert "2 workers" in where.text()
    choose_in_dialog(qtbot, win, "")
    assert win.compute.client is None and win.compute.dialog is None
    assert where.text() == "This computer (cpu)" and win.compute.executor is None
    assert read_compute(win.settings)[0] == ""  # a throwaway window saves nothing


def test_unreachable_scheduler_one_line_and_continue_here(qtbot, window, monkeypatch):
    monkeypatch.setattr(compute, "CONNECT_TIMEOUT_S", 1.5)
    win, attribution = window, window.panel("Attribution")
    dialog = choose_in_dialog(qtbot, win, "tcp://127.0.0.1:9")
    assert not dialog.ok.isEnabled() and dialog.progress.isVisible()  # connecting
    qtbot.waitUntil(lambda: dialog.here.isVisible(), timeout=15_000)
    message = dialog.message.text()
    assert "Cannot reach the Dask scheduler at tcp://127.0.0.1:9" in message
    assert "\n" not in message and dialog.ok.isEnabled()
    assert win.status.showing_error and win.compute.client is None
    qtbot.mouseClick(dialog.here, qtbot_left())
    assert win.compute.dialog is None and win.status.where.text() == "This computer (cpu)"
    qtbot.waitUntil(lambda: attribution.result is not None, timeout=TIMEOUT)
    before = attribution.result
    attribution.refresh_now()  # the window keeps working here
    qtbot.waitUntil(lambda: attribution.result is not before, timeout=TIMEOUT)
    assert attribution.view.overlay.image is not None


def test_lost_scheduler_is_said_within_seconds(qtbot, window):
    from distributed import LocalCluster

    win = window
    lonely = LocalCluster(n_workers=0, processes=False, dashboard_address=None,
                          scheduler_kwargs={"host": "127.0.0.1", "protocol": "tcp",
                                            "dashboard": False})
    try:
        win.compute.switch(lonely.scheduler_address)
        qtbot.waitUntil(lambda: win.compute.client is not None, timeout=15_000)
        assert win.status.where.text().endswith("no workers yet")
    finally:
        lonely.close()
    qtbot.waitUntil(lambda: win.compute.lost_box is not None, timeout=5_000)
    assert "scheduler lost" in win.status.where.text()
    assert "Lost the Dask scheduler at tcp://127.0.0.1:" in win.status.where.toolTip()
    assert "Continue on this computer" in win.status.message.text()
    here = win.compute.lost_box.buttons()[0]
    assert here.text() == "Continue on this computer"
    here.click()
    assert win.compute.client is None and win.status.where.text() == "This computer (cpu)"


def test_saved_scheduler_is_asked_for_once_and_never_in_tests(qtbot, window, monkeypatch):
    win = window
    asked = []
    monkeypatch.setattr(compute_dialog, "ask_connect", lambda _w, address: asked.append(address))
    monkeypatch.setattr(win, "_persist", True)
    write_compute(win.settings, "tcp://127.0.0.1:9", "tcp://127.0.0.1:9", 3)
    try:
        win.compute.start_up()
        assert asked == ["tcp://127.0.0.1:9"]  # answered No: nothing connects
        assert win.compute._handle is None and read_compute(win.settings) == (
            "", "tcp://127.0.0.1:9", 3)
        monkeypatch.setattr(win, "_persist", False)
        write_compute(win.settings, "tcp://127.0.0.1:9", "tcp://127.0.0.1:9", 3)
        win.compute.start_up()  # a throwaway window (tests, screenshots) never asks
        assert asked == ["tcp://127.0.0.1:9"]
    finally:
        write_compute(win.settings, "", "", 2)


def test_local_cluster_of_n_workers_starts_and_closes(qtbot, window):
    win = window
    dialog = choose_in_dialog(qtbot, win, "local:1")
    assert dialog.local.isChecked() and dialog.workers.value() == 1
    qtbot.waitUntil(lambda: win.compute.client is not None, timeout=30_000)
    assert win.status.where.text().startswith("Local cluster: 1 worker — w0: cpu, 1 thread,")
    assert "scheduler tcp://127.0.0.1:" in win.status.where.toolTip()
    local = win.compute.client._workbench_cluster
    started = time.monotonic()
    win.compute.use_this_computer()
    assert time.monotonic() - started < 0.5  # closing goes on in the background
    assert win.compute.client is None and win.status.where.text() == "This computer (cpu)"
    qtbot.waitUntil(lambda: local.status.name == "closed", timeout=15_000)


def test_ask_connect_is_answered_by_the_environment(monkeypatch):
    monkeypatch.setenv("WORKBENCH_CONNECT", "no")
    assert compute_dialog.ask_connect(None, "tcp://h:8786") is False
    monkeypatch.setenv("WORKBENCH_CONNECT", "yes")
    assert compute_dialog.ask_connect(None, "tcp://h:8786") is True


def test_quitting_while_connected_closes_the_client_quickly(qtbot, window, cluster):  # noqa: F811
    win = window
    win.compute.switch(cluster.scheduler_address)
    qtbot.waitUntil(lambda: win.compute.client is not None, timeout=40_000)
    connected = win.compute.client
    started = time.monotonic()
    win.close()
    assert time.monotonic() - started < 2.0
    assert connected.status == "closed" and win.compute.client is None
