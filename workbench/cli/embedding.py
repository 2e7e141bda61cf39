"""``workbench embed`` and ``workbench neighbors``: the embedding explorer, headless.

``workbench.cli`` wires these in with ``add_parsers(sub, add_model_options)`` and
:data:`COMMANDS`.  Never imports Qt.
"""

from __future__ import annotations

import json
import time

from workbench.errors import WorkbenchError

METHODS = ("pca", "tsne", "umap", "autoencoder")
DIGITS_MODEL = "digits_lenet"
DEFAULT_MODEL = "efficientnet_lite0"


def add_parsers(sub, add_model_options) -> None:
    """Register ``embed`` and ``neighbors`` on an argparse subparsers object."""
    embed = sub.add_parser("embed", help="2-D map of a dataset's features (PCA, t-SNE, UMAP, "
                                         "autoencoder)")
    embed.add_argument("dataset", help="a folder (subfolders are labels), a video, or 'digits'")
    embed.add_argument("--method", default="umap", choices=METHODS, help="default: umap")
    embed.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="a projection parameter, e.g. --param perplexity=50 (repeatable)")
    embed.add_argument("--out", metavar="MAP.png", help="save the map as a scatter plot")
    embed.add_argument("--save", metavar="EMB.npz",
                       help="save features (N, D), coords (N, 2), labels (N,) and paths")
    embed.add_argument("--cluster", metavar="ADDRESS",
                       help="extract on a Dask cluster: tcp://host:8786, tls://… or local:N")
    _add_common(embed, add_model_options)
    near = sub.add_parser("neighbors", help="nearest images to a query in a dataset, "
                                            "in the layer's feature space")
    near.add_argument("query", help="query image")
    near.add_argument("dataset", help="a folder, a video, or 'digits'")
    near.add_argument("-k", type=int, default=10, help="how many neighbours (default 10)")
    near.add_argument("--metric", default="cosine", choices=("cosine", "euclidean", "dot"))
    _add_common(near, add_model_options)


def _add_common(parser, add_model_options) -> None:
    parser.add_argument("--layer", help="layer name (default: the penultimate layer)")
    parser.add_argument("--every", type=int, default=10,
                        help="for a video: take every k-th frame (default 10)")
    parser.add_argument("--batch-size", type=int, default=0, help="0: sized to the device")
    parser.add_argument("--no-cache", action="store_true", help="ignore the feature cache")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    add_model_options(parser)
    parser.set_defaults(model=None)  # digits → digits_lenet, else efficientnet_lite0


def _features(args, dataset):
    """Load the model (default chosen by dataset) and the dataset's cached features."""
    from workbench.cli.common import load_cli_model
    from workbench.core.embedding import cached_features

    if args.batch_size < 0:
        raise WorkbenchError("--batch-size must be 0 (automatic) or positive")
    if args.model is None:
        args.model = DIGITS_MODEL if dataset.kind == "digits" else DEFAULT_MODEL
    model = load_cli_model(args)
    start = time.perf_counter()
    from workbench.cli.common import progress_context

    with progress_context() as ctx:
        if getattr(args, "cluster", None):
            from workbench.core.remote.dataset import cluster_features

            features = cluster_features(args.cluster, args.model, dataset, args.layer, ctx,
                                        use_cache=not args.no_cache)
        else:
            features = cached_features(model, dataset, args.layer, ctx=ctx,
                                       batch_size=args.batch_size, use_cache=not args.no_cache)
    return model, features, time.perf_counter() - start


def _skipped(features) -> list[dict]:
    return [{"path": path, "problem": problem} for path, problem in features.skipped]


def cmd_embed(args) -> int:
    from dataclasses import asdict

    from workbench.cli.common import parse_params, progress_context
    from workbench.core.embedding import get_reducer, open_dataset, project

    reducer = get_reducer(args.method)
    overrides = parse_params(reducer, args.param)
    dataset = open_dataset(args.dataset, every=args.every)
    model, features, feature_s = _features(args, dataset)
    with progress_context() as ctx:
        projection = project(features.features, args.method, overrides, ctx=ctx,
                             device=model.device)
    summary = {
        "dataset": args.dataset, "points": len(features), "skipped": _skipped(features),
        "model": model.name, "layer": features.layer,
        "feature_dim": int(features.features.shape[1]), "method": args.method,
        "params": asdict(projection.params), "label_names": features.label_names,
        "from_cache": features.from_cache, "features_s": round(feature_s, 3),
        "projection_s": round(projection.seconds, 3),
        "knn5_accuracy": map_accuracy(projection.coords, features.labels),
    }
    if args.save:
        _save_embedding(args.save, features, projection)
        summary["save"] = args.save
    if args.out:
        _save_map(args.out, features, projection, model)
        summary["out"] = args.out
    _print_embed(summary, args.json)
    return 0


def map_accuracy(coords, labels, k: int = 5) -> float | None:
    """Leave-one-out ``k``-NN accuracy of the labels in the 2-D map (None without labels)."""
    import numpy as np

    from workbench.core.embedding import FeatureIndex

    known = labels >= 0
    if known.sum() <= k or len(np.unique(labels[known])) < 2:
        return None
    points, truth = coords[known], labels[known]
    indices, _ = FeatureIndex(points, "euclidean").query(points, k + 1)
    votes = truth[indices[:, 1:]]  # the nearest is the point itself
    predicted = np.array([np.bincount(row).argmax() for row in votes])
    return round(float((predicted == truth).mean()), 4)


def _save_embedding(path, features, projection) -> None:
    import numpy as np

    from workbench.core.embedding import write_npz_atomic

    write_npz_atomic(
        path, features=features.features, coords=projection.coords.astype(np.float32),
        labels=features.labels.astype(np.int64), paths=np.array(features.names, dtype=str),
        label_names=np.array(features.label_names, dtype=str),
        layer=np.array(features.layer), model=np.array(features.model),
        method=np.array(projection.method),
    )


def _save_map(path, features, projection, model) -> None:
    from workbench.core.provenance import caption, provenance
    from workbench.io.figure import metadata_of, render_figure, save_figure
    from workbench.io.scatter import scatter_panel

    title = (f"{projection.method.upper()} of {features.layer} features: "
             f"{len(features)} points, {model.name}")
    params = vars(projection.params) if projection.params is not None else {}
    record = provenance(model, projection.method, features.layer, params,
                        points=len(features))
    panel = scatter_panel(projection.coords, features.labels, features.label_names)
    text = caption(record)
    save_figure(path, render_figure([panel], title, text), metadata_of(title, text, record))


def _print_embed(summary: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    cached = " (cached)" if summary["from_cache"] else ""
    print(f"{summary['method']}: {summary['points']} points, {summary['feature_dim']}-D "
          f"features at {summary['layer']} of {summary['model']}{cached}")
    if summary["knn5_accuracy"] is not None:
        print(f"5-NN label accuracy in the map: {summary['knn5_accuracy']:.3f}")
    for row in summary["skipped"]:
        print(f"skipped {row['path']}: {row['problem']}")


def cmd_neighbors(args) -> int:
    from workbench.core.embedding import FeatureIndex, arrays_dataset, open_dataset
    from workbench.core.embedding.features import extract_features
    from workbench.io.images import load_image

    if args.k < 1:
        raise WorkbenchError("-k must be at least 1")
    image = load_image(args.query)
    dataset = open_dataset(args.dataset, every=args.every)
    model, features, _ = _features(args, dataset)
    query = extract_features(model, arrays_dataset([(args.query, image)]), features.layer)
    index = FeatureIndex(features.features, args.metric, device=model.device)
    indices, distances = index.query(query.features, args.k)
    rows = [{"rank": rank + 1, "path": features.names[i], "label": _label(features, i),
             "distance": float(d)}
            for rank, (i, d) in enumerate(zip(indices[0], distances[0], strict=True))]
    if args.json:
        print(json.dumps({"query": args.query, "model": model.name, "layer": features.layer,
                          "metric": args.metric, "neighbors": rows,
                          "skipped": _skipped(features)}, indent=2))
    else:
        for row in rows:
            label = f"  [{row['label']}]" if row["label"] is not None else ""
            print(f"{row['rank']:>3}. {row['distance']:.4f}  {row['path']}{label}")
    return 0


def _label(features, i: int):
    value = int(features.labels[i])
    if value < 0:
        return None
    names = features.label_names
    return names[value] if value < len(names) else str(value)


COMMANDS = {"embed": cmd_embed, "neighbors": cmd_neighbors}
