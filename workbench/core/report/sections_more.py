"""Report sections beyond the single-picture ones: feature visualization, the embedding map
with a query's nearest neighbours, a video's timeline and the model's summary table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.core.jobs import JobContext
from workbench.core.report.document import ReportInput, ReportOptions, Section
from workbench.core.report.sections import (
    ONCE,
    VIDEO,
    class_rows,
    figure,
    model_picture,
    register,
)
from workbench.errors import WorkbenchError

QUERY_INK = (0, 0, 0)
DIGITS_MAP_POINTS = 600  # of the 1797 digits: enough for the map, quick on any machine
SMALL_MAP = 300  # maps with fewer points get bigger dots


@register("featviz", "Feature visualization", ONCE)
def featviz_section(model, inp, options: ReportOptions, ctx, prior=None) -> Section:
    """``prior``: the last :class:`~workbench.core.featureviz.Snapshot` of a run of this
    recipe (layer, channel, steps, size, config, seed)."""
    from dataclasses import asdict

    import torch

    from workbench.core.featureviz import Channel, FeatureVizConfig, evaluate, run_to_end
    from workbench.core.featureviz.parameterization import make_image
    from workbench.core.params import make
    from workbench.core.provenance import provenance
    from workbench.io.figure import FigurePanel

    layer = options.featviz_layer or options.layer or model.default_cam_layer
    info = model.layer_info(layer)
    if info.channels and not 0 <= options.channel < info.channels:
        raise WorkbenchError(f"layer {layer} has channels 0 … {info.channels - 1}, "
                             f"not {options.channel}")
    objective = Channel(layer, options.channel)
    config = make(FeatureVizConfig, options.featviz_config)
    steps, size, seed = options.featviz_steps, options.featviz_size, options.featviz_seed
    first = make_image(config.parameterization, 1, size, model.device, seed).image().detach()
    start = float(evaluate(model, objective, first)[0])
    last = prior or run_to_end(model, objective, config=config, steps=steps, size=size,
                               seed=seed, snapshot_every=steps, ctx=ctx)
    end = float(evaluate(model, objective,
                         torch.from_numpy(last.images[:1]).permute(0, 3, 1, 2)
                         .to(model.device))[0])
    params = {"layer": layer, "channel": options.channel, "steps": int(last.step or steps),
              "size": size, "images": len(last.images), **asdict(config), "seed": seed}
    record = provenance(model, "feature visualization", layer, params,
                        objective=objective.description)
    title = f"Feature visualization: channel {options.channel} of {layer}"
    panels = [FigurePanel(image, f"{objective.description}") for image in last.images[:4]]
    numbers = [{"quantity": "objective at the start (noise)", "value": start},
               {"quantity": "objective at the end", "value": end},
               {"quantity": "steps per second", "value": float(last.steps_per_second)}]
    return Section("featviz", title, figure(panels, title, record, options.dark), params,
                   numbers, record, "", reused=prior is not None)


def embedding_dataset(model, options: ReportOptions, inputs: list[ReportInput]):
    """The points of the map: digits (digits models), the bundled sample photos with the
    report's inputs, or the inputs alone."""
    from workbench.core.embedding import arrays_dataset, digits_dataset, open_dataset

    choice = options.embed_dataset
    if choice == "auto":
        choice = "digits" if "digits" in model.name else "samples"
    if choice == "digits":
        full = digits_dataset()
        step = max(1, len(full) // DIGITS_MAP_POINTS)
        full.items = full.items[::step]
        return full
    if choice == "inputs":
        return arrays_dataset([(i.label, i.image) for i in inputs if i.image is not None],
                              choice)
    if choice == "samples":
        return samples_dataset({str(i.path) for i in inputs if i.path})
    return open_dataset(choice)


def samples_dataset(skip=frozenset(), frames_per_video: int = 16):
    """The bundled photos and frames of the bundled videos, labelled by where they came
    from (one cluster per video): a map for an ImageNet model that works offline."""
    from workbench.core.embedding import arrays_dataset
    from workbench.io.images import load_image
    from workbench.io.samples import VIDEO_SAMPLES, available_samples
    from workbench.io.video import VideoReader

    pairs = [(s.name, load_image(s.path())) for s in available_samples()
             if str(s.path()) not in skip]
    labels, names = [0] * len(pairs), ["photos"]
    for sample in VIDEO_SAMPLES:
        path = sample.path()
        if not path.is_file():
            continue
        names.append(sample.name)
        with VideoReader(path, cache_mb=16) as reader:
            count = reader.info.frame_count
            for index in np.linspace(0, count - 1, frames_per_video).astype(int):
                pairs.append((f"{sample.name}[{index}]", reader.frame(int(index))))
                labels.append(len(names) - 1)
    return arrays_dataset(pairs, "samples", labels=labels, label_names=names)


@dataclass
class EmbeddingPrior:
    """A map already built: its dataset, features and fitted projection, and (when known)
    the report input's features and its nearest neighbours ``(indices, distances)``."""

    dataset: object
    features: object  # FeatureSet
    projection: object  # Projection
    query: np.ndarray | None = None  # (1, D)
    neighbours: tuple | None = None


@register("embedding", "Embedding map and nearest neighbours")
def embedding_section(model, inp, options: ReportOptions, ctx, prior=None,
                      inputs=None) -> Section:
    from workbench.core.embedding import (
        FeatureIndex,
        arrays_dataset,
        cached_features,
        extract_features,
        project,
    )
    from workbench.core.provenance import provenance
    from workbench.io.figure import FigurePanel
    from workbench.io.report_charts import thumbnail_grid
    from workbench.io.scatter import legend_entries, render_scatter, scatter_panel

    _x, picture = model_picture(model, inp)
    if prior is not None:
        dataset, features, projection = prior.dataset, prior.features, prior.projection
    else:
        dataset = embedding_dataset(model, options, inputs or [inp])
        features = cached_features(model, dataset, options.embed_layer,
                                   ctx=_share(ctx, 0.0, 0.6))
    ctx.check()
    query = prior.query if prior is not None and prior.query is not None else \
        extract_features(model, arrays_dataset([(inp.label, inp.image)]),
                         features.layer).features
    k = min(options.neighbours, len(features))
    if prior is not None and prior.neighbours is not None and len(prior.neighbours[0]) >= k:
        found, distances = (np.asarray(a)[None, :k] for a in prior.neighbours)
    else:
        found, distances = FeatureIndex(features.features, options.metric).query(query, k)
    if prior is None:
        projection = project(features.features, options.embed_method,
                             ctx=_share(ctx, 0.6, 1.0), device=model.device)
    where = projection.transform(query)
    coords = np.vstack([projection.coords, where])
    labels = np.concatenate([features.labels, [len(features.label_names)]])
    names = [*features.label_names, "query"]
    entries = [*legend_entries(features.labels, features.label_names),
               ("query (this input, ringed)", QUERY_INK)]
    colours = _point_colours(labels, len(names))
    panel = scatter_panel(coords, labels, names, colours=colours, entries=entries,
                          dark=options.dark)
    if len(coords) < SMALL_MAP:  # a few points: drawn large enough to be seen on paper
        panel.image = render_scatter(coords, colours=colours, radius=12, dark=options.dark)
    panel.image = _ring(panel.image, coords)
    panel.title = f"{projection.method.upper()} of {features.layer}"
    thumbs = [dataset.load(int(features.indices[i]) if features.indices is not None else int(i))
              for i in found[0]]
    grid = thumbnail_grid([picture, *thumbs], ["query", *(f"#{r + 1} {d:.3f}" for r, d in
                                                            enumerate(distances[0]))],
                          dark=options.dark)
    params = {"dataset": dataset.name, "points": len(features), "layer": features.layer,
              "method": projection.method, "neighbours": k, "metric": options.metric}
    record = provenance(model, f"{projection.method} map", features.layer, params,
                        image=inp.label)
    title = f"Embedding: {len(features)} points of {dataset.name} and {inp.label}'s neighbours"
    numbers = [{"rank": r + 1, "neighbour": features.names[i],
                "label": _label(features, int(i)), f"{options.metric} distance": float(d)}
               for r, (i, d) in enumerate(zip(found[0], distances[0], strict=True))]
    panels = [panel, FigurePanel(grid, f"query and its {k} nearest neighbours")]
    return Section("embedding", title, figure(panels, title, record, options.dark), params,
                   numbers, record, inp.label, reused=prior is not None)


def _point_colours(labels, count: int) -> np.ndarray:
    from workbench.io.scatter import label_colours

    colours = np.array(label_colours(labels, count), copy=True)
    colours[labels == count - 1] = QUERY_INK
    return colours


def _ring(picture: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """A ring around the last point (the query) so that it stands out from the classes."""
    from PIL import Image, ImageDraw

    from workbench.io.scatter import _to_pixels  # the same placement the scatter used

    image = Image.fromarray(np.ascontiguousarray(picture))
    x, y = _to_pixels(np.asarray(coords, np.float64), image.width, image.height)[-1]
    draw = ImageDraw.Draw(image)
    for radius, colour, width in ((24, (255, 255, 255), 8), (22, QUERY_INK, 5)):
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), outline=colour,
                     width=width)
    return np.asarray(image)


def _label(features, i: int):
    value = int(features.labels[i])
    names = features.label_names
    return None if value < 0 else (names[value] if value < len(names) else str(value))


def _share(ctx: JobContext, low: float, high: float) -> JobContext:
    """A context reporting ``low … high`` of ``ctx``'s progress, cancelled with it."""
    return JobContext(on_progress=lambda f, m="": ctx.progress(low + (high - low) * f, m),
                      cancel_event=ctx.cancel_event)


def video_frames(info, options: ReportOptions) -> np.ndarray:
    """The frames the video section predicts: every ``video_every``-th (or about
    ``video_fps`` a second) within ``video_span``."""
    from workbench.core.video import sampled_frames

    first, last = options.video_span or (0, info.frame_count - 1)
    return sampled_frames(info, options.video_every, options.video_fps, start=first,
                          stop=last + 1)


@register("video", "Video timeline", VIDEO)
def video_section(model, inp, options: ReportOptions, ctx, prior=None) -> Section:
    from workbench.core.video import aggregate, frame_predictions, mean_formula
    from workbench.core.video.export import timeline_figure, timeline_series
    from workbench.io.figure import FigurePanel
    from workbench.io.video import read_info
    from workbench.io.video_write import render_timeline

    if not inp.video or not inp.path:
        raise WorkbenchError(f"the video section needs a video; {inp.label} is an image")
    info = read_info(inp.path)
    result = prior
    if result is None:
        result = frame_predictions(model, inp.path, video_frames(info, options), 16, ctx)
    _smoothed, video = aggregate(result.probs, "mean", 0.0)
    top1 = result.probs.argmax(axis=1)
    summary = {"aggregation": "mean"}
    _drawn, title, _text, record = timeline_figure(model, info, result, summary,
                                                   dark=options.dark)
    series = timeline_series(model, result)
    chart = render_timeline(result.times, series, dark=options.dark,
                            top1=[model.label(int(i)) for i in top1])
    legend = [(name, colour) for name, (_values, colour) in series.items()]
    picture = figure([FigurePanel(chart, legend=legend)], title, record, options.dark)
    sampling = ({"every n-th frame": options.video_every} if options.video_every else
                {"frames per second sampled": options.video_fps})
    params = {**sampling, "frames": len(result.indices), "aggregation": "mean",
              "first frame": int(result.indices[0]), "last frame": int(result.indices[-1])}
    numbers = class_rows(model, video, options.topk, "video ")
    best = int(np.argmax(video))
    numbers.append({"rank": "", "class": "", "label": "top-1 changes between frames",
                    "video probability": int((np.diff(top1) != 0).sum())})
    note = mean_formula(result.probs, best, model.label(best))
    return Section("video", title, picture, params, numbers, record, inp.label, note,
                   reused=prior is not None)


@register("model", "Model summary", ONCE)
def model_section(model, inp, options: ReportOptions, ctx, prior=None) -> Section:
    from workbench.core.inspect import inspect_model
    from workbench.core.inspect.table import describe_totals
    from workbench.core.provenance import provenance
    from workbench.io.figure import FigurePanel
    from workbench.io.report_charts import bar_chart

    table = prior or inspect_model(model, None, ctx)
    depth = 2
    rows = [r for r in table.rows if r.depth <= depth][:80]
    parents = {r.name.rsplit(".", 1)[0] for r in rows if "." in r.name}
    heavy = sorted((r for r in rows if r.name not in parents and r.macs > 0),
                   key=lambda r: -r.macs)[:12]
    params = {"input shape": "×".join(map(str, table.input_shape)), "rows shown": len(rows),
              "depth shown": depth}
    record = provenance(model, "model summary", None, params)
    title = f"Model summary: {model.name}"
    chart = bar_chart([r.name for r in heavy], [float(r.macs) for r in heavy], unit=" MACs",
                      side=720, dark=options.dark)
    numbers = [{"layer": r.name, "type": r.type_name,
                "output": "×".join(map(str, r.output_shape[1:])) if r.output_shape else "–",
                "params": r.params_trainable, "MACs": r.macs,
                "RF": r.rf.size[0] if r.rf is not None else "–"} for r in rows]
    numbers.append({"layer": "total", "type": "", "output": "",
                    "params": table.totals["params_trainable"], "MACs": table.totals["macs"],
                    "RF": ""})
    panel = FigurePanel(chart, f"MACs of the {len(heavy)} heaviest layers")
    return Section("model", title, figure([panel], title, record, options.dark), params,
                   numbers, record, "", describe_totals(table.totals), reused=prior is not None)
