"""Does the window stay responsive while heavy jobs run? (issue 7: no stall > 50 ms)

A 10 ms heartbeat timer runs on the GUI thread while each heavy job runs on the
worker; a stall is a heartbeat that arrives late.  Reported: the 99th percentile
and the maximum delay per job.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from benchmarks.common import Row
from benchmarks.gui_harness import open_window, panel, pump_until

BEAT_MS = 10


class GcPauses:
    """Longest garbage-collector pause while measuring (to tell GC stalls from others)."""

    def __init__(self):
        import gc

        self.longest, self._start, self.where = 0.0, 0.0, ""
        gc.callbacks.append(self._callback)

    def reset(self) -> None:
        self.longest, self.where = 0.0, ""

    def _callback(self, phase, info):
        if phase == "start":
            self._start = time.perf_counter()
            return
        pause = (time.perf_counter() - self._start) * 1000
        if pause > self.longest:
            thread = threading.current_thread().name
            self.longest, self.where = pause, f"gen {info['generation']}, {thread}"

    def close(self) -> None:
        import gc

        gc.callbacks.remove(self._callback)

    def describe(self) -> str:
        return f"longest GC pause {self.longest:.0f} ms" + (
            f" ({self.where})" if self.where else "")


class Heartbeat:
    def __init__(self):
        from PySide6.QtCore import QTimer

        self.times: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(BEAT_MS)
        self.timer.timeout.connect(lambda: self.times.append(time.perf_counter()))

    def __enter__(self):
        self.times.clear()
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.stop()

    def delays_ms(self) -> np.ndarray:
        gaps = np.diff(np.array(self.times)) * 1000.0
        return np.clip(gaps - BEAT_MS, 0.0, None)


def _image_folder(count: int = 300) -> str:
    import tempfile

    from PIL import Image

    folder = tempfile.mkdtemp(prefix="wb-resp-")
    rng = np.random.default_rng(0)
    for k in range(count):
        label = f"{folder}/class{k % 3}"
        import os

        os.makedirs(label, exist_ok=True)
        pixels = (rng.random((300, 300, 3)) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(f"{label}/{k}.jpg", quality=90)
    return folder


def heavy_jobs(window):
    """``(name, tab, start)`` for each heavy job, driven through the real panels."""
    occlusion = panel(window, "Occlusion")
    attribution = panel(window, "Attribution")
    embeddings = panel(window, "Embeddings")
    folder = _image_folder()

    def start_sweep():
        occlusion.modes.setCurrentIndex(1)
        occlusion.sweep_form.editors["window"].setValue(32)
        occlusion.sweep_form.editors["stride"].setValue(8)
        occlusion.run_sweep()

    def start_grid():
        attribution.views.setCurrentIndex(1)
        attribution.grid.fill()

    def start_extraction():
        import os

        os.environ["WORKBENCH_CACHE_DIR"] = folder + "/cache"  # a cold feature cache
        embeddings.set_source("folder", folder)
        embeddings.method.setCurrentIndex(embeddings.method.findData("pca"))
        embeddings.build()

    video = panel(window, "Video")

    def start_video():
        from PySide6.QtWidgets import QApplication

        from workbench.io.samples import sample_path

        window.inputs.add_paths([sample_path("bigbuckbunny")], select=True)
        pump_until(QApplication.instance(),
                   lambda: video.info is not None and video.player.frame is not None)
        video.every.setValue(2)
        video.player.dropped = 0
        video.player.toggle()  # plays at 25 fps while the predictions run
        video.run_predictions()

    def start_umap():
        import workbench.ui.tabs.embeddings.panel as module

        module._UMAP_WARM = False
        embeddings.warm_up_umap()

    jobs = [("occlusion sweep (625 windows)", "Occlusion", start_sweep),
            ("CAM comparison grid (4 methods × 3 layers)", "Attribution", start_grid),
            ("feature extraction (300 JPEGs, cold cache) + PCA", "Embeddings",
             start_extraction),
            ("UMAP compile / load from numba's cache", "Embeddings", start_umap),
            ("720p playback while per-frame predictions run", "Video", start_video)]
    return jobs


def run(rounds: int = 1):
    app, window = open_window()
    heartbeat = Heartbeat()
    pauses = GcPauses()
    rows = []
    for name, title, start in heavy_jobs(window):
        window.tabs.setCurrentIndex([p.title for p in window.panels].index(title))
        pump_until(app, window.is_settled)
        pauses.reset()
        with heartbeat:
            began = time.perf_counter()
            start()
            pump_until(app, lambda: not window.is_settled())
            pump_until(app, window.is_settled)
            elapsed = time.perf_counter() - began
        delays = heartbeat.delays_ms()
        if delays.size == 0:
            rows.append(Row(f"heartbeat during {name}", 0.0, 50.0, "finished before a beat"))
            continue
        p99, worst = np.percentile(delays, 99), delays.max()
        rows.append(Row(f"heartbeat during {name}", p99, 50.0,
                        f"p99 {p99:.1f} ms, max {worst:.1f} ms over {len(delays)} beats in "
                        f"{elapsed:.1f} s ({pauses.describe()}); "
                        "target max ≤ 50 ms"))
    player = panel(window, "Video").player
    if player.info is not None:
        rows.append(Row("720p playback (Big Buck Bunny, 25 fps) during predictions: frames "
                        "dropped", float(player.dropped), float(player.info.frame_count),
                        "ticks skipped because the previous frame was still decoding",
                        unit="frames"))
    pauses.close()
    window.close()
    return rows


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
