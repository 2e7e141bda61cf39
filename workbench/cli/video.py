"""``workbench video``: an image model on every sampled frame of a video — or a clip model
on clips sliding over it — combined over time; timeline, annotated MP4 / GIF,
probabilities and maps, headless."""

from __future__ import annotations

import json

from workbench.cli import common
from workbench.errors import WorkbenchError

TIMELINE_CLASSES = 5


def add_parsers(sub, add_model_options) -> None:
    video = sub.add_parser("video", help="per-frame predictions of a video, combined over time")
    video.add_argument("video")
    sampling = video.add_mutually_exclusive_group()
    sampling.add_argument("--every", type=int, help="every K-th frame")
    sampling.add_argument("--fps", type=float, help="about F frames a second (default 2)")
    video.add_argument("--range", metavar="A:B", help="frames A (inclusive) to B (exclusive)")
    video.add_argument("--average", default="mean",
                       help="mean, window:N, ema:ALPHA or vote (default mean)")
    video.add_argument("--topk", type=int, default=5)
    video.add_argument("--cam", metavar="METHOD", help="also a map per frame (e.g. gradcam)")
    video.add_argument("--layer", help="layer of the maps (default: the model's ★)")
    video.add_argument("--target", type=int, help="class of the maps (default: each top-1)")
    video.add_argument("--out", metavar="timeline.png|annotated.mp4|annotated.gif",
                       help="the timeline as a figure (.png/.svg), or the annotated video")
    video.add_argument("--save-probs", metavar="probs.csv|probs.npz")
    video.add_argument("--save-maps", metavar="maps.npy", help="(T, H, W) float32 maps")
    video.add_argument("--clip-step", type=int, metavar="K",
                       help="clip models: every K-th frame in a clip (default: the rate the "
                            "model was trained at)")
    video.add_argument("--clip-stride", type=int, metavar="S",
                       help="clip models: a new clip every S frames (default: one clip's span)")
    video.add_argument("--weighting", choices=("clip", "per-time"), default="clip",
                       help="clip models' CAM channel weights: one per channel for the clip, "
                            "or one per channel per time slice")
    video.add_argument("--batch-size", type=int, default=16)
    video.add_argument("--json", action="store_true")
    add_model_options(video)


def parse_range(text: str | None) -> tuple[int, int | None]:
    if not text:
        return 0, None
    first, sep, last = text.partition(":")
    try:
        return int(first or 0), (int(last) if last else None) if sep else None
    except ValueError:
        raise WorkbenchError(f"--range must look like A:B (frame numbers), not '{text}'") \
            from None


def cmd_video(args) -> int:

    from workbench.core.video import aggregate, frame_predictions, parse_aggregation, sampled_frames
    from workbench.io.video import read_info

    if args.topk < 1 or args.batch_size < 1:
        raise WorkbenchError("--topk and --batch-size must be at least 1")
    name, parameter = parse_aggregation(args.average)
    info = read_info(args.video)
    start, stop = parse_range(args.range)
    indices = sampled_frames(info, args.every, args.fps, start, stop)
    model = common.load_cli_model(args)
    spec = _clip_spec(model, info, args) if model.kind == "video" else None
    with common.progress_context() as ctx:
        if spec is None:
            result = frame_predictions(model, args.video, indices, args.batch_size, ctx)
        else:
            from workbench.core.video.clip_runs import clip_predictions

            result = clip_predictions(model, args.video, spec, start, stop, ctx)
    smoothed, video = aggregate(result.probs, name, parameter)
    summary = video_summary(model, info, result, video, args)
    if spec is not None:
        summary["clips"] = {"frames": spec.frames, "step": spec.step, "stride": spec.hop,
                            "starts": result.starts.tolist()}
    maps = None
    if args.cam or args.save_maps:
        maps = _maps(model, args, indices, spec, start, stop)
        summary["maps"] = {"method": maps.method, "layer": maps.layer,
                           "shape": list(maps.maps.shape)}
    _save(args, model, info, result, smoothed, maps, summary)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for row in summary["video_top"]:
            print(f"{row['prob']:7.2%}  {row['label']}")
        print(summary["formula"])
    return 0


def video_summary(model, info, result, video, args) -> dict:
    import numpy as np

    from workbench.core.video import mean_formula

    order = np.argsort(-video)[: args.topk]
    top1 = result.probs.argmax(axis=1)
    return {
        "video": info.as_dict(), "model": model.name, "aggregation": args.average,
        "frames": {"count": int(len(result.indices)), "first": int(result.indices[0]),
                   "last": int(result.indices[-1]), "indices": result.indices.tolist()},
        "video_top": [{"index": int(i), "label": model.label(int(i)), "prob": float(video[i])}
                      for i in order],
        "top1_changes": int((np.diff(top1) != 0).sum()),
        "formula": mean_formula(result.probs, int(order[0]), model.label(int(order[0]))),
    }


def _clip_spec(model, info, args):
    """The clips a clip model takes: its frame count, ``--clip-step`` (default: its trained
    frame rate) and ``--clip-stride``."""
    from workbench.core.video.clips import ClipSpec, default_spec

    spec = default_spec(model, info.fps)
    step = args.clip_step or spec.step
    return ClipSpec(spec.frames, step, args.clip_stride or 0)


def _maps(model, args, indices, spec, start, stop):
    from workbench.core.video import frame_maps

    if spec is not None:
        from workbench.core.video.clip_runs import clip_maps

        params = {"weighting": args.weighting} if (args.cam or "gradcam") in (
            "gradcam", "gradcam++", "xgradcam") else None
        with common.progress_context() as ctx:
            return clip_maps(model, args.video, spec, args.cam or "gradcam", args.layer,
                             args.target, params, start, stop, ctx)
    with common.progress_context() as ctx:
        return frame_maps(model, args.video, indices, args.cam or "gradcam", args.layer,
                          args.target, batch_size=max(1, args.batch_size // 2), ctx=ctx)


def _save(args, model, info, result, smoothed, maps, summary) -> None:
    from workbench.io.atomic import save_npy_atomic

    if args.save_probs:
        from workbench.core.video.export import save_probabilities

        save_probabilities(args.save_probs, model, result, smoothed, summary)
    if args.save_maps and maps is not None:
        save_npy_atomic(args.save_maps, maps.maps.astype("float32"))
    if args.out:
        suffix = args.out.lower().rsplit(".", 1)[-1]
        if suffix in ("mp4", "gif"):
            from workbench.core.video.export import write_annotated

            with common.progress_context() as ctx:
                write_annotated(args.out, args.video, model, result, smoothed, maps, ctx)
        elif suffix in ("png", "svg"):
            from workbench.core.video.export import write_timeline

            write_timeline(args.out, model, info, result, summary)
        else:
            raise WorkbenchError("--out must end in .png, .svg, .mp4 or .gif")


COMMANDS = {"video": cmd_video}
