"""Run every benchmark and print one table: ``python -m benchmarks.run [--device cuda]``.

Each row is the project's figure, the physical limit on the same device, their
ratio, and (where installed: ``pip install -e ".[bench]"``) a peer library
measured in the same process.  Suites that drive the window need Qt and run on
the CPU only; on a machine without Qt (the GPU machine) they are skipped.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect

import torch

from benchmarks.common import print_table

# (name, module, needs Qt)
SUITES = (
    ("startup", "benchmarks.bench_startup", True),
    ("predict", "benchmarks.bench_predict", False),
    ("attribution", "benchmarks.bench_attribution", False),
    ("occlusion", "benchmarks.bench_occlusion", False),
    ("compile", "benchmarks.bench_compile", False),
    ("compile_stall", "benchmarks.bench_compile_stall", True),
    ("featviz", "benchmarks.bench_featviz", False),
    ("embedding", "benchmarks.bench_embedding", False),
    ("remote_extraction", "benchmarks.bench_remote_extraction", False),
    ("remote", "benchmarks.bench_remote", False),
    ("adversarial", "benchmarks.bench_adversarial", False),
    ("video", "benchmarks.bench_video", False),
    ("live", "benchmarks.bench_live", True),
    ("clips", "benchmarks.bench_clips", False),
    ("dense_video", "benchmarks.bench_dense_video", False),
    ("detection", "benchmarks.bench_detection", False),
    ("inspect", "benchmarks.bench_inspect", False),
    ("zoo_load", "benchmarks.bench_zoo_load", False),
    ("responsiveness", "benchmarks.bench_responsiveness", True),
    ("soak", "benchmarks.bench_soak", True),
)


def qt_available() -> bool:
    return importlib.util.find_spec("PySide6") is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=[name for name, _, _ in SUITES], action="append")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {name}")
    rows, skipped, failed = [], [], []
    for suite, module_name, needs_qt in SUITES:
        if args.only and suite not in args.only:
            continue
        if needs_qt and (device.type != "cpu" or not qt_available()):
            skipped.append(suite)
            continue
        run = importlib.import_module(module_name).run
        kwargs = {"device": args.device} if "device" in inspect.signature(run).parameters else {}
        try:
            suite_rows = run(**kwargs)
        except Exception as exc:  # noqa: BLE001 - one broken suite must not hide the others
            print(f"{suite}: failed: {type(exc).__name__}: {exc}", flush=True)
            failed.append(suite)
            continue
        print_table(suite_rows)  # as each suite finishes, then all together at the end
        rows += suite_rows
    print("\nAll suites:")
    print_table(rows)
    if skipped:
        print(f"skipped (need Qt on the CPU machine): {', '.join(skipped)}")
    if failed:
        raise SystemExit(f"failed suites: {', '.join(failed)}")


if __name__ == "__main__":
    main()
