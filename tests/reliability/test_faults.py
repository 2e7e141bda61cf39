"""Faults: raising, cancelling at every stage, out of memory, closing mid-job, and two
windows flooding their workers with superseding requests."""

import threading
import time

import pytest

from tests.helpers import endless_job
from workbench.io.samples import sample_path
from workbench.worker import Runner

TIMEOUT = 60_000


@pytest.fixture
def runner(qtbot):
    runner = Runner("fault-test")
    yield runner
    assert runner.shutdown(2.0)


def test_cancel_at_every_stage(qtbot, runner):
    outcomes = {}

    def record(name):
        return {"on_finished": lambda r: outcomes.setdefault(name, ("finished", r)),
                "on_cancelled": lambda: outcomes.setdefault(name, ("cancelled", None)),
                "on_error": lambda m: outcomes.setdefault(name, ("error", m))}

    gate = threading.Event()
    blocker = runner.submit(lambda ctx: gate.wait(5), **record("blocker"))
    pending = runner.submit(lambda ctx: "never", **record("pending"))
    runner.cancel(pending)

    def partial_then_check(ctx):
        ctx.partial(1)
        time.sleep(0.05)
        ctx.check()
        return "late"

    in_partial = runner.submit(partial_then_check,
                               on_partial=lambda _r: runner.cancel(in_partial),
                               **record("in_partial"))
    gate.set()
    qtbot.waitUntil(runner.is_idle, timeout=TIMEOUT)
    runner.cancel(blocker)  # after it finished: nothing happens
    assert outcomes["blocker"] == ("finished", True)
    assert outcomes["pending"] == ("cancelled", None)
    assert outcomes["in_partial"] == ("cancelled", None)
    after = runner.submit(lambda ctx: "next", **record("after"))
    qtbot.waitUntil(runner.is_idle, timeout=TIMEOUT)
    assert outcomes["after"] == ("finished", "next") and after.state == "done"


def test_error_inside_a_job_then_the_next_job_runs(qtbot, runner):
    messages, results = [], []
    runner.submit(lambda ctx: 1 / 0, name="Divide", on_error=messages.append)
    runner.submit(lambda ctx: "ok", on_finished=results.append)
    qtbot.waitUntil(runner.is_idle, timeout=TIMEOUT)
    assert messages == ["Divide failed: ZeroDivisionError: division by zero"]
    assert results == ["ok"]


def test_simulated_cuda_out_of_memory_in_the_gui(qtbot):
    import torch

    from workbench.ui.main_window import MainWindow

    win = MainWindow(files=[str(sample_path("chelsea"))], restore=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.panels[0].prediction is not None, timeout=TIMEOUT)

    def oom(ctx):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 8.00 GiB")

    win.runner.submit(oom, name="Score-CAM", on_error=win.state.error)
    qtbot.waitUntil(win.is_settled, timeout=TIMEOUT)
    errors = [m for _, m, e in win.status.messages if e]
    assert any("Score-CAM: out of device memory" in m and "batch" in m for m in errors)
    win.panels[0].topk.setValue(3)  # the next job still runs
    qtbot.waitUntil(lambda: len(win.panels[0].prediction.top) == 3, timeout=TIMEOUT)
    win.close()


def test_closing_the_window_mid_job_is_quick(qtbot):
    from workbench.ui.main_window import MainWindow

    win = MainWindow(files=[str(sample_path("chelsea"))], restore=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.panels[0].prediction is not None, timeout=TIMEOUT)
    endless, started = endless_job()
    win.runner.submit(endless, name="Endless")
    assert started.wait(5)
    begin = time.monotonic()
    win.close()
    assert time.monotonic() - begin < 2.0
    assert not win.runner.thread().isRunning() and not win.io_runner.thread().isRunning()


def test_two_windows_of_rapid_superseding_requests(qtbot):
    from workbench.ui.main_window import MainWindow

    windows = []
    for sample in ("chelsea", "coffee"):
        win = MainWindow(files=[str(sample_path(sample))], restore=False)
        qtbot.addWidget(win)
        win.show()
        windows.append(win)
    for win in windows:
        qtbot.waitUntil(lambda w=win: w.panels[0].prediction is not None, timeout=TIMEOUT)
    finished = {id(w): 0 for w in windows}
    for win in windows:
        win.runner.finished.connect(lambda _i, _r, w=win: finished.__setitem__(
            id(w), finished[id(w)] + 1))
    for k in range(60):
        for win in windows:
            win.panels[0].topk.setValue(1 + k % 10)
    for win in windows:
        win.panels[0].topk.setValue(4)
    for win in windows:
        qtbot.waitUntil(win.is_settled, timeout=TIMEOUT)
    labels = [w.panels[0].prediction.best.label for w in windows]
    assert labels == ["Egyptian cat", "espresso"]
    assert all(len(w.panels[0].prediction.top) == 4 for w in windows)
    assert all(count < 20 for count in finished.values())  # superseded work was dropped
    for win in windows:
        begin = time.monotonic()
        win.close()
        assert time.monotonic() - begin < 2.0
