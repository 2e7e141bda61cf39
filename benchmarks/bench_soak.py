"""Soak (issue 7): 300 Grad-CAM and 300 occlusion-paint updates through the real panels —
no leaked hooks, no new threads, resident memory growth < 50 MB."""

from __future__ import annotations

import gc
import threading

import numpy as np

from benchmarks.bench_attribution import rss_mb
from benchmarks.common import Row
from benchmarks.gui_harness import open_window, panel, pump_until


def _attribution_updates(app, window, count):
    attribution = panel(window, "Attribution")
    window.tabs.setCurrentIndex(window.panels.index(attribution))
    pump_until(app, window.is_settled)
    for k in range(count):
        before = attribution.result
        attribution.targets.choose([285, 282, 281][k % 3])
        pump_until(app, lambda b=before: attribution.result is not b and window.is_settled())


def _paint_updates(app, window, count):
    occlusion = panel(window, "Occlusion")
    window.tabs.setCurrentIndex(window.panels.index(occlusion))
    pump_until(app, lambda: occlusion.masked is not None and window.is_settled())
    for k in range(count):
        mask = np.zeros((224, 224), bool)
        mask[(k * 7) % 150 : (k * 7) % 150 + 60, 40:180] = True
        before = occlusion.masked
        occlusion.canvas.set_mask(mask)
        pump_until(app, lambda b=before: occlusion.masked is not b and window.is_settled())


def run(count: int = 300):
    from workbench.core.models.introspect import count_hooks

    app, window = open_window()
    rows = []
    for name, drive in (("Grad-CAM", _attribution_updates), ("occlusion paint", _paint_updates)):
        drive(app, window, 10)  # warm caches first
        gc.collect()
        hooks, threads, rss = count_hooks(window.state.model.module), threading.active_count(), \
            rss_mb()
        drive(app, window, count)
        gc.collect()
        growth = rss_mb() - rss
        rows.append(Row(f"{count} {name} updates in the GUI", growth, 50.0,
                        f"RSS +{growth:.1f} MB (target < 50), hooks "
                        f"{count_hooks(window.state.model.module) - hooks:+d}, threads "
                        f"{threading.active_count() - threads:+d}", unit="MB"))
    window.close()
    return rows


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
