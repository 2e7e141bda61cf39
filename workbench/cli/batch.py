"""``workbench batch cam|occlusion|attack DATASET --out DIR [--cluster ADDRESS]``: one result
per input plus a summary (``inputs.csv``, ``summary.csv``, ``summary.png``); resumable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from workbench.errors import WorkbenchError

HIST_BINS = 10


def add_parsers(sub, add_model_options) -> None:
    batch = sub.add_parser("batch", help="Grad-CAM, occlusion or an attack over a whole dataset "
                                         "(optionally on a Dask cluster); resumable")
    batch.add_argument("analysis", choices=("cam", "occlusion", "attack"))
    batch.add_argument("dataset", help="a folder (subfolders are labels), a video, or 'digits'")
    batch.add_argument("--out", dest="out_dir", required=True, metavar="DIR",
                       help="folder for the results")
    batch.add_argument("--cluster", metavar="ADDRESS",
                       help="run on a Dask cluster: tcp://host:8786, tls://… or local:N")
    batch.add_argument("--method", help="cam: attribution method (default gradcam); "
                                        "attack: fgsm, bim, pgd, … (default fgsm)")
    batch.add_argument("--layer", help="cam: layer (default: the model's CAM layer)")
    batch.add_argument("--eps", default="2/255,8/255", metavar="E1,E2,…",
                       help="attack: budgets in pixel units (default 2/255,8/255)")
    batch.add_argument("--window", type=int, default=32, help="occlusion window (default 32)")
    batch.add_argument("--stride", type=int, default=16, help="occlusion stride (default 16)")
    batch.add_argument("--every", type=int, default=10, help="for a video: every k-th frame")
    batch.add_argument("--json", action="store_true", help="print a JSON summary")
    add_model_options(batch)


def cmd_batch(args) -> int:
    from workbench.cli.adversarial import parse_fraction
    from workbench.cli.common import progress_context
    from workbench.core.embedding import open_dataset
    from workbench.core.remote.batch import BatchParams, run_batch

    try:
        eps = tuple(parse_fraction(text) for text in args.eps.split(",") if text.strip())
    except Exception as exc:  # noqa: BLE001 - argparse's own message, one line
        raise WorkbenchError(f"--eps {args.eps}: {exc}") from None
    params = BatchParams(layer=args.layer, eps=eps, window=args.window, stride=args.stride)
    if args.method:
        params = BatchParams(**{**vars(params), ("attack" if args.analysis == "attack"
                                                 else "method"): args.method})
    dataset = open_dataset(args.dataset, every=args.every)
    device = "auto" if args.cluster else args.device
    with progress_context() as ctx:
        if args.cluster:
            from workbench.core.remote.dataset import connected

            with connected(args.cluster) as client:
                report = run_batch(args.analysis, args.model, dataset, args.out_dir, params,
                                   client, ctx, device)
        else:
            report = run_batch(args.analysis, args.model, dataset, args.out_dir, params, None,
                               ctx, device)
    summary = write_summary(Path(args.out_dir), report, args.model)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"batch {args.analysis}: {report.total} inputs, {report.computed} computed, "
              f"{report.reused} already done (skipped), {len(report.failed)} unreadable; "
              f"summary in {Path(args.out_dir) / 'summary.csv'}")
        for key, value in summary["summary"].items():
            print(f"  {key}: {value}")
        for name, problem in report.failed:
            print(f"skipped {name}: {problem}")
    return 0


def write_summary(out: Path, report, spec: str) -> dict:
    """``inputs.csv`` (one row per input), ``summary.csv`` and ``summary.png``."""
    from workbench.io.tables import write_csv

    rows = report.rows
    if report.analysis == "attack":
        header = ["input", "true_class", "label", "eps", "success", "linf", "l2", "top1"]
        table = [[r["input"], r["true_class"], r["label"], e["eps"], int(e["success"]),
                  e["linf"], e["l2"], e["top1"]] for r in rows for e in r["per_eps"]]
        stats = attack_stats(rows)
    else:
        keys = (["deletion_auc", "insertion_auc"] if report.analysis == "cam"
                else ["base_prob", "max_drop"])
        header = ["input", "target", "label", *keys]
        table = [[r["input"], r["target"], r["label"], *(r[k] for k in keys)] for r in rows]
        stats = distribution_stats(rows, keys)
    write_csv(out / "inputs.csv", header, table)
    write_csv(out / "summary.csv", ["statistic", "value"], sorted(stats.items()))
    _figure(out / "summary.png", report, rows, stats, spec)
    return {"analysis": report.analysis, "inputs": report.total, "computed": report.computed,
            "skipped_done": report.reused, "unreadable": [list(f) for f in report.failed],
            "summary": stats, "out": str(out)}


def distribution_stats(rows, keys) -> dict:
    stats = {"n": len(rows)}
    for key in keys:
        values = np.array([r[key] for r in rows], dtype=np.float64)
        if values.size:
            stats.update({f"{key}_mean": round(float(values.mean()), 6),
                          f"{key}_median": round(float(np.median(values)), 6),
                          f"{key}_p10": round(float(np.percentile(values, 10)), 6),
                          f"{key}_p90": round(float(np.percentile(values, 90)), 6)})
    return stats


def attack_stats(rows) -> dict:
    """Success rate and mean L∞ / L2 per epsilon (``eps8.00of255_success_rate``, …)."""
    from workbench.core.remote.batch import eps_tag

    stats: dict = {"n": len(rows)}
    budgets = sorted({e["eps"] for r in rows for e in r["per_eps"]})
    for eps in budgets:
        entries = [e for r in rows for e in r["per_eps"] if e["eps"] == eps]
        tag = eps_tag(eps)
        stats[f"{tag}_success_rate"] = round(float(np.mean([e["success"] for e in entries])), 6)
        stats[f"{tag}_mean_linf"] = round(float(np.mean([e["linf"] for e in entries])), 6)
        stats[f"{tag}_mean_l2"] = round(float(np.mean([e["l2"] for e in entries])), 6)
    return stats


def _histogram(values, low=0.0, high=1.0):
    counts, edges = np.histogram(np.clip(values, low, high), HIST_BINS, (low, high))
    labels = [f"{a:.1f}–{b:.1f}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return labels, [float(c) for c in counts]


def _figure(path, report, rows, stats, spec) -> None:
    from workbench.io.figure import FigurePanel, metadata_of, render_figure, save_figure
    from workbench.io.report_charts import bar_chart

    panels = []
    if report.analysis == "attack":
        budgets = sorted({e["eps"] for r in rows for e in r["per_eps"]})
        from workbench.core.remote.batch import eps_tag

        labels = [f"ε {eps * 255:.1f}/255 · mean L∞ {stats[eps_tag(eps) + '_mean_linf']:.4f}"
                  f" · L2 {stats[eps_tag(eps) + '_mean_l2']:.3f}" for eps in budgets]
        values = [stats[eps_tag(eps) + "_success_rate"] for eps in budgets]
        panels.append(FigurePanel(bar_chart(labels, values, unit="%", maximum=1.0),
                                  "attack success rate per ε"))
    else:
        keys = ("deletion_auc", "insertion_auc") if report.analysis == "cam" else ("max_drop",)
        for key in keys:
            labels, counts = _histogram([r[key] for r in rows])
            panels.append(FigurePanel(bar_chart(labels, counts), f"{key} (inputs per bin)"))
    title = f"batch {report.analysis}: {len(rows)} inputs, {spec}"
    caption = ", ".join(f"{k} {v}" for k, v in stats.items())
    save_figure(path, render_figure(panels, title, caption), metadata_of(title, caption, None))


COMMANDS = {"batch": cmd_batch}
