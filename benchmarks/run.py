"""Run every benchmark and print one table: ``python -m benchmarks.run``."""

from __future__ import annotations

import argparse

import torch

from benchmarks import (
    bench_attribution,
    bench_featviz,
    bench_occlusion,
    bench_predict,
    bench_responsiveness,
    bench_soak,
    bench_startup,
)
from benchmarks.common import print_table

SUITES = {
    "startup": bench_startup.run,
    "predict": bench_predict.run,
    "attribution": bench_attribution.run,
    "occlusion": bench_occlusion.run,
    "featviz": bench_featviz.run,
    "responsiveness": bench_responsiveness.run,
    "soak": bench_soak.run,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=sorted(SUITES), action="append")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    rows = []
    for name in args.only or SUITES:
        rows += SUITES[name]()
    print_table(rows)


if __name__ == "__main__":
    main()
