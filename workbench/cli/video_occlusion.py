"""``workbench video-occlusion``: which moments of a clip matter — hide a few frames at a
time and measure the drop of the target's probability (temporal occlusion, after Zeiler &
Fergus, ECCV 2014, https://arxiv.org/abs/1311.2901; see
:mod:`workbench.core.video.temporal_occlusion`).

A clip model takes the clip as one input (its frame count and frame rate by default); an
image model predicts the clip as the mean of its per-frame probabilities (16 frames).
"""

from __future__ import annotations

import json
import math

from workbench.cli import common
from workbench.errors import WorkbenchError

IMAGE_MODEL_FRAMES = 16
PLOT_SIZE = (1400, 520)
TABLE_BAR = 24  # characters of the longest bar in the table


def add_parsers(sub, add_model_options) -> None:
    from workbench.core.video.temporal_occlusion import FILLS

    parser = sub.add_parser("video-occlusion",
                            help="which frames of a clip matter (temporal occlusion)")
    parser.add_argument("video")
    parser.add_argument("--start", type=int, default=0, help="first frame of the clip")
    parser.add_argument("--frames", type=int,
                        help=f"frames in the clip (default: a clip model's own, or "
                             f"{IMAGE_MODEL_FRAMES} for an image model)")
    parser.add_argument("--step", type=int,
                        help="every K-th frame (default: a clip model's frame rate, or 1)")
    parser.add_argument("--window", type=int, default=2, help="frames hidden at a time")
    parser.add_argument("--stride", type=int, default=1, help="frames between windows")
    parser.add_argument("--fill", default="mean", choices=FILLS,
                        help="what hidden frames become (default mean)")
    parser.add_argument("--target", type=int, help="class index (default: the clip's top-1)")
    parser.add_argument("--batch-size", type=int, default=0, help="0: sized to the device")
    parser.add_argument("--out", metavar="plot.png|plot.svg", help="drop against frame")
    parser.add_argument("--json", action="store_true")
    add_model_options(parser)


def cmd_video_occlusion(args) -> int:
    from workbench.core.video.clips import clip_indices, read_clip
    from workbench.core.video.temporal_occlusion import check_params, temporal_occlusion
    from workbench.io.video import VideoReader, read_info

    check_params(args.window, args.stride, args.fill)
    if args.out and not args.out.lower().endswith((".png", ".svg")):
        raise WorkbenchError("--out must end in .png or .svg")
    info = read_info(args.video)
    model = common.load_cli_model(args)
    spec = clip_spec(model, info.fps, args.frames, args.step)
    indices = clip_indices(args.start, spec, info.frame_count)
    with VideoReader(args.video, cache_mb=16) as reader:
        clip = read_clip(reader, indices)
    with common.progress_context() as ctx:
        result = temporal_occlusion(model, clip, args.target, args.window, args.stride,
                                    args.fill, args.batch_size, ctx)
    summary = occlusion_summary(model, info, spec, indices, result)
    if args.out:
        write_plot(args.out, model, summary)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(table(summary))
    return 0


def clip_spec(model, fps: float, frames: int | None, step: int | None):
    """The clip to read: a clip model's own frames and step, or 16 frames for an image
    model, either overridden by ``--frames`` / ``--step``."""
    from workbench.core.video.clips import ClipSpec, default_spec

    own = default_spec(model, fps) if model.kind == "video" else ClipSpec(IMAGE_MODEL_FRAMES)
    return ClipSpec(own.frames if frames is None else frames,
                    own.step if step is None else step)


def _number(value) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def occlusion_summary(model, info, spec, indices, result) -> dict:
    """What ``--json`` prints: the clip, the target, and per window and per frame."""
    positions = result.positions
    windows = [indices[p:p + result.window] for p in positions]
    best = int(max(range(len(positions)), key=lambda k: result.drops[k]))
    return {
        "video": info.as_dict(), "model": model.name, "mode": result.extras.get("mode"),
        "clip": {"start": int(indices[0]), "frames": int(len(indices)), "step": spec.step,
                 "indices": indices.tolist()},
        "target": result.target, "label": result.label, "base_prob": result.base_prob,
        "window": result.window, "stride": result.stride, "fill": result.fill,
        "positions": positions.tolist(),
        "frame_numbers": [int(w[0]) for w in windows],
        "window_frames": [[int(w[0]), int(w[-1])] for w in windows],
        "occluded_probs": [_number(v) for v in result.occluded_probs],
        "drops": [_number(v) for v in result.drops],
        "per_frame": [_number(v) for v in result.per_frame],
        "most_important": {"position": int(positions[best]),
                           "frames": [int(windows[best][0]), int(windows[best][-1])],
                           "drop": _number(result.drops[best])},
    }


def table(summary: dict) -> str:
    """A readable table: one row per window, with a bar for its drop."""
    drops = [d or 0.0 for d in summary["drops"]]
    largest = max((abs(d) for d in drops), default=0.0) or 1.0
    clip = summary["clip"]
    lines = [f"{summary['model']}: {summary['label']} p={summary['base_prob']:.3f} on frames "
             f"{clip['indices'][0]}…{clip['indices'][-1]} ({clip['frames']} frames, step "
             f"{clip['step']}); fill {summary['fill']}, window {summary['window']}, stride "
             f"{summary['stride']}",
             f"{'frames':>13}  {'p(hidden)':>9}  {'drop':>8}"]
    for (first, last), prob, drop in zip(summary["window_frames"], summary["occluded_probs"],
                                         drops, strict=True):
        bar = ("█" if drop >= 0 else "▒") * round(abs(drop) / largest * TABLE_BAR)
        lines.append(f"{first:>6}–{last:<6}  {prob:9.4f}  {drop:+8.4f}  {bar}")
    top = summary["most_important"]
    lines.append(f"largest drop {top['drop']:+.4f} with frames {top['frames'][0]}–"
                 f"{top['frames'][1]} hidden")
    return "\n".join(lines)


def write_plot(path, model, summary: dict) -> None:
    """The per-frame importance and each window's drop against the frame number, as a
    figure with its provenance caption."""
    from workbench.core.provenance import caption, provenance
    from workbench.io.figure import FigurePanel, metadata_of, render_figure, save_figure
    from workbench.io.palette import categorical, hex_to_rgb

    bars, line = (hex_to_rgb(c) for c in categorical(2))
    picture = render_drops(summary, bars, line)
    legend = [("per frame: mean drop of the windows covering it", bars),
              ("window hidden (drawn at its centre)", line)]
    title = (f"Temporal occlusion: drop in p({summary['label']}) with "
             f"{summary['window']} frames hidden")
    record = provenance(model, "temporal occlusion", None,
                        {k: summary[k] for k in ("window", "stride", "fill")},
                        video=summary["video"]["path"], target=summary["label"],
                        frames=f"{summary['clip']['indices'][0]}…"
                               f"{summary['clip']['indices'][-1]}")
    text = caption(record)
    save_figure(path, render_figure([FigurePanel(picture, legend=legend)], title, text),
                metadata_of(title, text, record))


def render_drops(summary: dict, bar_colour, line_colour, size=PLOT_SIZE):
    """A Pillow chart (uint8 RGB): a bar per frame, a line through the windows."""
    import numpy as np
    from PIL import Image, ImageDraw

    from workbench.io.figure import font

    frames = np.asarray(summary["clip"]["indices"], np.float64)
    per_frame = np.array([np.nan if v is None else v for v in summary["per_frame"]])
    drops = np.array([np.nan if v is None else v for v in summary["drops"]])
    centres = np.array([(a + b) / 2 for a, b in summary["window_frames"]], np.float64)
    width, height = size
    body = max(14, width // 56)
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    box = (body * 6, body, width - body * 2, height - body * 4)
    x_of, y_of = _axes(draw, box, frames, np.concatenate([per_frame, drops]), body, font(body))
    spacing = np.min(np.diff(np.unique(frames))) if len(np.unique(frames)) > 1 else 1.0
    half = max(1.0, (x_of(spacing) - x_of(0.0)) * 0.4)
    for frame, value in zip(frames, per_frame, strict=True):
        if np.isfinite(value):
            top, bottom = sorted((y_of(value), y_of(0.0)))
            draw.rectangle((x_of(frame) - half, top, x_of(frame) + half, bottom),
                           fill=bar_colour)
    points = [(x_of(c), y_of(d)) for c, d in zip(centres, drops, strict=True) if np.isfinite(d)]
    if len(points) > 1:
        draw.line(points, fill=line_colour, width=max(2, body // 5))
    for x, y in points:
        draw.ellipse((x - body / 4, y - body / 4, x + body / 4, y + body / 4), fill=line_colour)
    return np.asarray(image)


def _axes(draw, box, frames, values, body, face):
    """Grid, ticks and labels of the chart; returns the frame → x and drop → y maps."""
    import numpy as np

    left, top, right, bottom = box
    finite = values[np.isfinite(values)]
    low = min(0.0, float(finite.min())) if len(finite) else 0.0
    high = max(0.0, float(finite.max())) if len(finite) else 0.0
    pad = (high - low) * 0.08 or 0.01
    low, high = low - pad, high + pad
    first, last = float(frames.min()) - 0.5, float(frames.max()) + 0.5

    def x_of(frame):
        return left + (frame - first) / (last - first) * (right - left)

    def y_of(value):
        return bottom - (value - low) / (high - low) * (bottom - top)

    ink, grid = (30, 30, 30), (220, 220, 220)
    for value in nice_ticks(low, high, 5):
        draw.line((left, y_of(value), right, y_of(value)), fill=grid)
        text = f"{value:+.4g}" if abs(value) > 1e-12 else "0"
        draw.text((left - body // 2, y_of(value)), text, fill=ink, font=face, anchor="rm")
    draw.line((left, y_of(0.0), right, y_of(0.0)), fill=ink, width=2)
    for tick in nice_ticks(frames.min(), frames.max(), 9, smallest=1.0):
        draw.text((x_of(tick), bottom + body // 2), f"{int(tick)}", fill=ink, font=face,
                  anchor="mt")
    draw.text(((left + right) / 2, bottom + body * 2), "frame", fill=ink, font=face, anchor="mt")
    draw.rectangle(box, outline=ink)
    return x_of, y_of


def nice_ticks(low: float, high: float, count: int, smallest: float = 0.0) -> list[float]:
    """At most about ``count`` round values (steps of 1, 2 or 5 × 10ⁿ) in ``low … high``."""
    raw = max((high - low) / max(count - 1, 1), smallest, 1e-12)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    first = math.ceil(low / step - 1e-9)
    return [k * step for k in range(first, math.floor(high / step + 1e-9) + 1)]


COMMANDS = {"video-occlusion": cmd_video_occlusion}
