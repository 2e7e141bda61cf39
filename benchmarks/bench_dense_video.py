"""Per-frame detection and segmentation on a video: the Video tab's job
(:func:`workbench.core.video.dense.dense_frames`: decoding ahead on its own thread,
resizing, the model, results per frame) against the bare batched forward of the same
model on the same frames, decoded and resized beforehand (issue 18's target: ≥ 0.8×
the throughput); also drawing the boxes on each frame for the annotated export.

The clip is made here with PyAV: digit scenes (``workbench.core.models.digit_scenes``)
drifting across a 256×256 frame.  The built-in ``digits_detector`` / ``digits_segmenter``
are used with their trained weights when they are there, random-initialized otherwise
(the same computation).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import Row, paired, timed

SIZE = (256, 256)


def make_scene_clip(path: Path, frames: int = 96, fps: int = 25) -> Path:
    """Digit scenes moving one pixel a frame right and down, H.264."""
    import av

    from workbench.core.models.digit_scenes import make_scene

    scene = make_scene(np.random.default_rng(0), size=SIZE, count=(4, 6))
    base = (scene.image * 255).astype(np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.height, stream.width = SIZE
        stream.pix_fmt = "yuv420p"
        for index in range(frames):
            picture = np.roll(base, (index // 2, index), axis=(0, 1))
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def scene_model(name: str, device: str):
    """The built-in model, or the same network random-initialized when its weights are
    missing (a fresh checkout before training)."""
    import importlib

    from workbench.core.models import load_model
    from workbench.core.models.registry import wrap_model
    from workbench.errors import WorkbenchError

    try:
        return load_model(name, device=device), "trained"
    except WorkbenchError:
        module = importlib.import_module(f"workbench.core.models.{name}")
        torch.manual_seed(0)
        net = (module.DigitsDetector() if name == "digits_detector"
               else module.DigitsSegmenter()).eval()
        task = "detection" if name == "digits_detector" else "segmentation"
        prep = {"mean": module.MEAN, "std": module.STD, "input_size": module.INPUT_SIZE,
                "grey": True, "task": task, "extras": {"crop_mode": "squash"}}
        return wrap_model(net, prep, list(module.LABELS), name, "random", "image",
                          device), "random weights"


def zoo_model(name: str, device: str):
    """A torchvision detector or segmenter with random weights (nothing is downloaded); a
    detector keeps every box, so its post-processing costs what it costs with weights."""
    from workbench.core.models import load_model

    model = load_model(f"{name}:random", device=device)
    heads = getattr(model.module.net, "roi_heads", None)
    if heads is not None:
        heads.score_thresh = 0.0
    return model, "random weights"


def dense_rows(name: str, path: Path, device: str, rounds: int, batch: int = 8,
               frames_used: int | None = None) -> list[Row]:
    from workbench.core.video.dense import dense_frames, frames_to_dense_input
    from workbench.core.video.dense_export import annotate_frame
    from workbench.io.video import VideoReader

    model, weights = (scene_model(name, device) if name.startswith("digits_")
                      else zoo_model(name, device))
    with VideoReader(path) as reader:
        indices = np.arange(frames_used or len(reader))
        frames = np.stack([reader.frame_uint8(int(i)) for i in indices])
    x = frames_to_dense_input(model, frames)
    batches = [x[i: i + batch] for i in range(0, len(x), batch)]

    def ours():
        dense_frames(model, path, indices, batch_size=batch)

    def bare():
        with torch.inference_mode():
            for chunk in batches:
                model.module(chunk)

    ours_ms, limit_ms, ratio = paired(ours, bare, rounds, warmup=1)
    result = dense_frames(model, path, indices, batch_size=batch)
    count = len(indices)
    drawn = [result.frames[int(i)] for i in indices[:24]]
    draw_ms = timed(lambda: [annotate_frame(frames[n], r, 0.3) for n, r in enumerate(drawn)])
    task = model.task
    return [
        Row(f"per-frame {task}, {name} ({weights}, {count} frames {SIZE[1]}×{SIZE[0]})",
            ours_ms, limit_ms,
            f"throughput {1 / ratio:.2f}× of the bare batched forward on decoded frames "
            f"(target ≥ 0.8×); {count / ours_ms * 1000:.0f} fps, model alone "
            f"{count / limit_ms * 1000:.0f} fps", paired_ratio=ratio),
        Row(f"drawing the {task} on a frame ({name})", draw_ms / len(drawn),
            limit_ms / count, "per frame, against the model's forward per frame "
            "(annotated export and the overlay)"),
    ]


def run(device: str = "cpu", rounds: int = 7):
    with tempfile.TemporaryDirectory() as folder:
        clip = make_scene_clip(Path(folder) / "scenes.mp4")
        rows = dense_rows("digits_detector", clip, device, rounds)
        rows += dense_rows("digits_segmenter", clip, device, rounds)
        # models whose forward costs what a real detector's does (the built-ins take ~1 ms
        # a frame, less than decoding and resizing the frame)
        rows += dense_rows("fasterrcnn_mobilenet_v3_large_320_fpn", clip, device, 3,
                           batch=4, frames_used=24)
        rows += dense_rows("lraspp_mobilenet_v3_large", clip, device, 3, batch=4,
                           frames_used=24)
    return rows


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
