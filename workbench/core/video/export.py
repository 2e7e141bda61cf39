"""Exports of a video analysis, shared by the command line and the window: the annotated
video and the timeline figure."""

from __future__ import annotations

import numpy as np

from workbench.io.palette import categorical, hex_to_rgb


def top_classes(probs: np.ndarray, count: int = 5) -> list[int]:
    """The classes with the highest mean over the frames."""
    return [int(i) for i in np.argsort(-np.nanmean(probs, axis=0))[:count]]


def timeline_series(model, result, classes=None) -> dict:
    """``label → (probabilities over time, colour)`` for ``classes`` (default: the top)."""
    classes = classes or top_classes(result.probs)
    colours = [hex_to_rgb(c) for c in categorical(len(classes))]
    return {model.label(c): (result.probs[:, c], colour)
            for c, colour in zip(classes, colours, strict=True)}


def write_timeline(path, model, info, result, summary=None, cursor=None, dark=False,
                   classes=None) -> str:
    from workbench.io.figure import metadata_of, save_figure

    figure, title, text, record = timeline_figure(model, info, result, summary, cursor, dark,
                                                  classes)
    save_figure(path, figure, metadata_of(title, text, record))
    return str(path)


def timeline_figure(model, info, result, summary=None, cursor=None, dark=False, classes=None):
    """The timeline as ``(figure uint8, title, caption, provenance record)`` (also drawn in
    reports)."""
    from workbench.core.provenance import caption, provenance
    from workbench.io.figure import FigurePanel, render_figure
    from workbench.io.video_write import render_timeline

    series = timeline_series(model, result, classes)
    top1 = [model.label(int(i)) for i in np.nan_to_num(result.probs, nan=-1).argmax(axis=1)]
    picture = render_timeline(result.times, series, cursor=cursor, dark=dark, top1=top1)
    legend = [(name, colour) for name, (_values, colour) in series.items()]
    spec = getattr(result, "spec", None)  # clip predictions: each at its clip's centre
    what = "Clip" if spec else "Per-frame"
    title = f"{what} probabilities of {model.name} on {info.path.rsplit('/', 1)[-1]}"
    counts = ({"clips": len(result.indices), "clip frames": spec.frames,
               "frame step": spec.step, "clip stride": spec.hop} if spec
              else {"frames": len(result.indices)})
    record = provenance(model, f"{what.lower()} prediction", None, counts, video=info.path,
                        **({"aggregation": summary["aggregation"]} if summary else {}))
    text = caption(record)
    return (render_figure([FigurePanel(picture, legend=legend)], title, text, dark=dark), title,
            text, record)


def write_annotated(path, video, model, result, smoothed, maps=None, ctx=None,
                    opacity: float = 0.5, timeline: bool = False) -> str:
    """Every frame from the first to the last sampled one, each with the prediction of the
    latest sampled frame (raw and smoothed), with ``maps`` its map over it, and with
    ``timeline`` the timeline (cursor at the frame) under it."""
    from workbench.io.overlay import overlay
    from workbench.io.samples import credit_for
    from workbench.io.video import VideoReader
    from workbench.io.video_write import FrameNote, annotate, render_timeline, write_video

    credit = credit_for(video)
    first, last = int(result.indices[0]), int(result.indices[-1])
    series = timeline_series(model, result)

    def chart(seconds: float, width: int) -> np.ndarray:
        return render_timeline(result.times, series, size=(width, max(120, width // 3)),
                               cursor=seconds)

    def frames():
        with VideoReader(video, cache_mb=16) as reader:
            for index in range(first, last + 1):
                row = int(np.searchsorted(result.indices, index, side="right")) - 1
                picture = reader.frame_uint8(index)
                if maps is not None and np.isfinite(maps.maps[row]).all():
                    picture = _with_map(picture, maps.maps[row], model.input_size, overlay,
                                        opacity)
                raw, calm = result.probs[row], smoothed[row]
                note = FrameNote(reader.time_of(index), model.label(int(raw.argmax())),
                                 float(raw.max()), model.label(int(calm.argmax())),
                                 float(calm.max()))
                if ctx is not None:
                    ctx.progress((index - first + 1) / (last - first + 1), "Writing the video")
                framed = annotate(picture, note, credit)
                if timeline:
                    framed = np.vstack([framed, chart(note.time, framed.shape[1])])
                yield framed

    with VideoReader(video, cache_mb=1) as reader:
        fps = reader.info.fps
    write_video(path, frames(), fps, ctx)
    return str(path)


def _with_map(picture: np.ndarray, heat: np.ndarray, input_size, overlay,
              opacity: float) -> np.ndarray:
    """The map over the part of the frame the model saw (its centre crop)."""
    from PIL import Image

    from workbench.core.preprocess import crop_box

    height, width = picture.shape[:2]
    top, left, h, w = crop_box(height, width, tuple(input_size))
    placed = np.full((height, width), np.nan, np.float32)
    placed[top: top + h, left: left + w] = np.asarray(
        Image.fromarray(heat.astype(np.float32)).resize((w, h), Image.Resampling.BILINEAR))
    blended = overlay(picture.astype(np.float32) / 255.0, placed, opacity=opacity,
                      units="attribution value")
    return (np.clip(blended, 0, 1) * 255 + 0.5).astype(np.uint8)


def save_probabilities(path, model, result, smoothed, summary) -> None:
    """CSV: one row per (frame, class) for the video's top classes; NPZ: everything."""
    import numpy as np

    from workbench.io.atomic import atomic_path
    from workbench.io.tables import write_csv

    if str(path).lower().endswith(".npz"):
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, indices=result.indices, times=result.times,
                     probs=result.probs, smoothed=smoothed.astype(np.float32),
                     labels=np.array(model.labels))
        return
    classes = [row["index"] for row in summary["video_top"]]
    rows = [(int(f), f"{t:.4f}", model.label(c), f"{result.probs[r, c]:.6f}",
             f"{smoothed[r, c]:.6f}")
            for r, (f, t) in enumerate(zip(result.indices, result.times, strict=True))
            for c in classes]
    write_csv(path, ("frame", "time", "class", "probability", "smoothed"), rows)
