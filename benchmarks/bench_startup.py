"""Time from launching ``workbench gui`` to the main window being shown (issue 2: < 2 s).

Runs the real console entry point offscreen in a fresh process; the app
prints a timestamp once the window is shown (``WORKBENCH_REPORT_STARTUP``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time


def launch_once(timeout_s: float = 60.0) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", WORKBENCH_REPORT_STARTUP="1",
               WORKBENCH_CONFIG_DIR=tempfile.mkdtemp(prefix="wb-bench-"))
    start = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "workbench", "gui"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = start + timeout_s
        while time.time() < deadline:
            line = proc.stdout.readline()
            if line.startswith("window-shown"):
                return float(line.split()[1]) - start
            if not line and proc.poll() is not None:
                raise RuntimeError("workbench exited before showing its window")
        raise TimeoutError("window not shown")
    finally:
        proc.kill()
        proc.wait()


def run(rounds: int = 5):
    from benchmarks.common import Row

    times = [launch_once() * 1000.0 for _ in range(rounds)]
    median = statistics.median(times)
    return [Row("window visible after launch", median, 2000.0, "target < 2000 ms (limit column "
                "is the target)", f"max {max(times):.0f} ms over {rounds} launches")]


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
