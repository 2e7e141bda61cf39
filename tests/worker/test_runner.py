"""The worker: signal order, cancel, supersede, errors, shutdown."""

import threading
import time

import pytest

from tests.helpers import endless_job
from workbench.errors import WorkbenchError
from workbench.worker import Runner


@pytest.fixture
def runner(qtbot):
    runner = Runner("test-worker")
    events = []
    runner.events = events
    runner.started.connect(lambda i: events.append(("started", i)))
    runner.progressed.connect(lambda i, f, m: events.append(("progress", i)))
    runner.partial.connect(lambda i, r: events.append(("partial", i)))
    runner.finished.connect(lambda i, r: events.append(("finished", i, r)))
    runner.errored.connect(lambda i, m: events.append(("errored", i, m)))
    runner.cancelled.connect(lambda i: events.append(("cancelled", i)))
    yield runner
    assert runner.shutdown(2.0)


def wait_idle(qtbot, runner, timeout=5000):
    qtbot.waitUntil(runner.is_idle, timeout=timeout)


def kinds(runner, job_id):
    return [e[0] for e in runner.events if e[1] == job_id]


def test_strict_signal_order(qtbot, runner):
    def job(ctx):
        for i in range(3):
            ctx.check()
            ctx.partial(i)
            ctx.progress((i + 1) / 3)
            time.sleep(0.06)
        return "done"

    handle = runner.submit(job)
    wait_idle(qtbot, runner)
    seen = kinds(runner, handle.id)
    assert seen[0] == "started" and seen[-1] == "finished"
    assert seen.count("partial") == 3 and seen.count("finished") == 1
    assert runner.events[-1][2] == "done"


def test_job_runs_on_the_worker_thread(qtbot, runner):
    results = []
    runner.submit(lambda ctx: threading.current_thread().name, on_finished=results.append)
    wait_idle(qtbot, runner)
    assert results and results[0] != threading.main_thread().name


def test_cancel_mid_job(qtbot, runner):
    started = threading.Event()

    def slow(ctx):
        started.set()
        for _ in range(500):
            ctx.check()
            time.sleep(0.01)
        return "never"

    handle = runner.submit(slow)
    assert started.wait(2)
    runner.cancel(handle)
    wait_idle(qtbot, runner)
    assert kinds(runner, handle.id) == ["started", "cancelled"]


def test_superseded_result_never_arrives(qtbot, runner):
    gate = threading.Event()

    def first(ctx):
        gate.wait(2)
        return "stale"  # ignores cancellation on purpose: finishes anyway

    results = []
    one = runner.submit(first, key="panel", on_finished=results.append)
    two = runner.submit(lambda ctx: "fresh", key="panel", on_finished=results.append)
    gate.set()
    wait_idle(qtbot, runner)
    assert results == ["fresh"]
    assert kinds(runner, one.id)[-1] == "cancelled"
    assert kinds(runner, two.id) == ["started", "finished"]


def test_pending_job_cancelled_before_start_emits_only_cancelled(qtbot, runner):
    gate = threading.Event()
    runner.submit(lambda ctx: gate.wait(2))
    pending = runner.submit(lambda ctx: "x")
    runner.cancel(pending)
    gate.set()
    wait_idle(qtbot, runner)
    assert kinds(runner, pending.id) == ["cancelled"]


def test_error_is_reported_and_next_job_runs(qtbot, runner):
    def broken(ctx):
        raise ValueError("boom")

    def user_mistake(ctx):
        raise WorkbenchError("Cannot open 'x.png': the file is empty")

    bad = runner.submit(broken, name="Broken job")
    mistake = runner.submit(user_mistake)
    good = runner.submit(lambda ctx: 42)
    wait_idle(qtbot, runner)
    errors = {e[1]: e[2] for e in runner.events if e[0] == "errored"}
    assert errors[bad.id] == "Broken job failed: ValueError: boom"
    assert errors[mistake.id] == "Cannot open 'x.png': the file is empty"
    assert ("finished", good.id, 42) in runner.events


def test_out_of_memory_becomes_a_message(qtbot, runner):
    class OutOfMemoryError(RuntimeError):
        pass

    def oom(ctx):
        raise OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    handle = runner.submit(oom, name="Occlusion map")
    wait_idle(qtbot, runner)
    message = [e[2] for e in runner.events if e[0] == "errored" and e[1] == handle.id][0]
    assert "out of device memory" in message and "batch" in message


def test_progress_is_throttled(qtbot, runner):
    def chatty(ctx):
        for i in range(20000):
            ctx.progress(i / 20000)
        return None

    handle = runner.submit(chatty)
    wait_idle(qtbot, runner)
    assert kinds(runner, handle.id).count("progress") < 200


def test_shutdown_mid_job_is_quick(qtbot):
    runner = Runner("shutdown-test")
    endless, started = endless_job()
    runner.submit(endless)
    assert started.wait(2)
    begin = time.monotonic()
    assert runner.shutdown(2.0)
    assert time.monotonic() - begin < 2.0
    assert not runner.thread().isRunning()


def test_callback_exception_does_not_kill_the_runner(qtbot, runner):
    def bad_callback(_result):
        raise RuntimeError("slot bug")

    runner.submit(lambda ctx: 1, on_finished=bad_callback)
    results = []
    runner.submit(lambda ctx: 2, on_finished=results.append)
    wait_idle(qtbot, runner)
    assert results == [2]
