"""Worker jobs of the Video tab.  Display frames are decoded on the IO runner (one reader
per video, used only there; superseding requests keep only the latest); predictions,
maps and exports run on the model runner."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

OPEN_READERS = 2


class _Readers:
    """The IO thread's open readers, the most recent few (a video opens once)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.open: OrderedDict = OrderedDict()

    def get(self, path: str):
        from workbench.io.video import VideoReader

        with self.lock:
            reader = self.open.get(path)
            if reader is None:
                reader = VideoReader(path, cache_mb=128)
                self.open[path] = reader
                while len(self.open) > OPEN_READERS:
                    self.open.popitem(last=False)[1].close()
            self.open.move_to_end(path)
            return reader


READERS = _Readers()


def open_job(path, ctx):
    """The video's metadata (opening it on the IO thread, where it is then read)."""
    return READERS.get(str(path)).info


def display_job(path, index, model, ctx=None, quick: bool = False):
    """Frame ``index`` as it is (uint8) and, for ``model``, as the model sees it; ``quick``
    shows the keyframe before it instead (one frame to decode, while the slider moves)."""
    reader = READERS.get(str(path))
    index = reader.keyframe_before(int(index)) if quick else int(index)
    frame = reader.frame_uint8(index)
    seen = None
    if model is not None:
        import torch

        from workbench.core.preprocess import fit_to, resize_options

        with torch.inference_mode():  # the model's own crop (a detector's: the whole frame)
            pixels = fit_to(torch.from_numpy(frame[None]).permute(0, 3, 1, 2).float() / 255,
                            model.input_size, **resize_options(model))
        seen = pixels[0].permute(1, 2, 0).numpy()
    return int(index), frame, seen, reader.time_of(int(index))


def predictions_job(model, path, indices, ctx):
    from workbench.core.video import frame_predictions

    return frame_predictions(model, path, indices, ctx=ctx)


def maps_job(model, path, indices, method, layer, target, params, ctx):
    from workbench.core.video import frame_maps

    return frame_maps(model, path, indices, method, layer, target, params, ctx=ctx)


def clip_predictions_job(model, path, spec, start, stop, ctx):
    from workbench.core.video.clip_runs import clip_predictions

    return clip_predictions(model, path, spec, start, stop, ctx=ctx)


def clip_maps_job(model, path, spec, start, stop, method, layer, target, params, ctx):
    from workbench.core.video.clip_runs import clip_maps

    return clip_maps(model, path, spec, method, layer, target, params, start, stop, ctx=ctx)


def moments_job(model, path, indices, window, fill, target, ctx):
    """Temporal occlusion of the frames ``indices`` (a clip, or frames averaged)."""
    from workbench.core.video.clips import read_clip
    from workbench.core.video.temporal_occlusion import temporal_occlusion
    from workbench.io.video import VideoReader

    with VideoReader(path, cache_mb=16) as reader:
        clip = read_clip(reader, indices)
    return temporal_occlusion(model, clip, target, window, 1, fill, ctx=ctx)


def frame_job(path, index, ctx):
    """A frame as a float image, for the Inputs dock."""
    return READERS.get(str(path)).frame(int(index))


def export_video_job(out, path, model, predictions, smoothed, maps, timeline, ctx):
    from workbench.core.video.export import write_annotated

    return write_annotated(out, path, model, predictions, smoothed, maps, ctx,
                           timeline=timeline)


def nearest_row(indices: np.ndarray, index: int) -> int:
    """The sampled frame at or before ``index`` (the first one before the start)."""
    return int(np.clip(np.searchsorted(indices, index, side="right") - 1, 0, len(indices) - 1))
