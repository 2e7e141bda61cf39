"""``workbench predict`` with a detector (boxes) or a segmenter (each class's share, the
class-index map); the classifier's top-k stays in :mod:`workbench.cli.models`."""

from __future__ import annotations

import json

import numpy as np

from workbench.cli.dense import add_threshold_option, class_index, threshold_of
from workbench.errors import WorkbenchError

DENSE_ONLY = (("threshold", "--threshold"), ("classes", "--classes"),
              ("save_mask", "--save-mask"), ("save_annotated", "--save-annotated"))


def add_predict_options(parser) -> None:
    group = parser.add_argument_group("detector / segmenter")
    add_threshold_option(group)
    group.add_argument("--classes", metavar="K,K,…",
                       help="a detector's classes to keep (labels or indices, comma-separated)")
    group.add_argument("--save-mask", metavar="MASK.npy",
                       help="a segmenter's (H, W) int64 class-index map at the image's size")
    group.add_argument("--save-annotated", metavar="OUT.png",
                       help="the image with the boxes or the class map drawn over it")


def check_classifier_options(args, model) -> None:
    """A classifier given a detector's or a segmenter's option: one clear line."""
    for name, flag in DENSE_ONLY:
        if getattr(args, name, None) is not None:
            raise WorkbenchError(f"{flag} is for a detector or a segmenter; {model.name} is a "
                                 "classifier")


def predict_dense(args, model, image) -> int:
    """Print (and save) what a detector or a segmenter finds in ``image``."""
    from workbench.core.preprocess import model_input
    from workbench.io.atomic import save_npy_atomic

    x = model_input(model, image)
    if args.save_input:
        save_npy_atomic(args.save_input, x.detach().cpu().numpy().astype("float32"))
    if model.task == "detection":
        summary, text = detection_summary(args, model, image, x)
    else:
        summary, text = segmentation_summary(args, model, image, x)
    if args.with_input:
        summary["input"] = model.input_description()
    print(json.dumps(summary, indent=2) if args.json else text)
    return 0


def parse_classes(model, text: str | None) -> list[int] | None:
    if text is None:
        return None
    parts = [part for part in text.split(",") if part.strip()]
    if not parts:
        raise WorkbenchError("--classes needs at least one class (labels or indices)")
    return [class_index(model, part, "--classes") for part in parts]


def detection_summary(args, model, image, x) -> tuple[dict, str]:
    from workbench.core.tasks.detection import raw_detections, to_detections

    if args.save_mask:
        raise WorkbenchError(f"--save-mask is for a segmenter; {model.name} is a detector")
    threshold = threshold_of(args)
    classes = parse_classes(model, args.classes)
    (raw,) = raw_detections(model, x)
    found = to_detections(raw, model, image.shape[:2], threshold, classes)
    rows = found.as_rows()
    summary = {"model": model.name, "task": "detection", "threshold": threshold,
               "classes": classes, "image_size": list(image.shape[:2]),
               "input_size": list(model.input_size), "boxes": rows}
    if args.save_annotated:
        summary["annotated"] = save_annotated(args.save_annotated, image, found, "detections")
    return summary, detection_table(model, rows, threshold, image.shape[:2])


def detection_table(model, rows, threshold, size) -> str:
    """A readable table of the boxes (the image's pixels), best first."""
    height, width = size
    lines = [f"{model.name}: {len(rows)} detection(s) scoring at least {threshold:g} "
             f"(boxes in the image's {width}×{height} pixels)"]
    if rows:
        width = max(5, *(len(r["label"]) for r in rows))
        lines.append(f"{'#':>3}  {'label':<{width}}  {'score':>5}  "
                     f"{'x0':>7} {'y0':>7} {'x1':>7} {'y1':>7}")
        lines += [f"{r['index']:>3}  {r['label']:<{width}}  {r['score']:.3f}  "
                  f"{r['x0']:7.1f} {r['y0']:7.1f} {r['x1']:7.1f} {r['y1']:7.1f}" for r in rows]
    return "\n".join(lines)


def segmentation_summary(args, model, image, x) -> tuple[dict, str]:
    from workbench.core.tasks.segmentation import class_scores, to_segmentation
    from workbench.io.atomic import save_npy_atomic

    for name, flag in DENSE_ONLY[:2]:
        if getattr(args, name, None) is not None:
            raise WorkbenchError(f"{flag} is for a detector; {model.name} is a segmenter")
    result = to_segmentation(class_scores(model, x)[0], model, image.shape[:2])
    summary = {"model": model.name, "task": "segmentation", **result.as_dict(),
               "input_size": list(model.input_size)}
    if args.save_mask:
        save_npy_atomic(args.save_mask, result.original_map.astype(np.int64))
        summary["mask"] = str(args.save_mask)
    if args.save_annotated:
        summary["annotated"] = save_annotated(args.save_annotated, image, result,
                                              "segmentation")
    height, width = result.original_map.shape
    lines = [f"{model.name}: class shares of the image's {width}×{height} pixels"]
    lines += [f"{row['share']:7.2%}  {row['class']:>5}  {row['label']}"
              for row in summary["shares"]]
    return summary, "\n".join(lines)


def save_annotated(path, image, result, what: str) -> str:
    """The picture with ``result`` drawn over it (``workbench.io.annotate``)."""
    try:
        from workbench.io import annotate
    except ImportError:
        raise WorkbenchError("--save-annotated needs workbench.io.annotate, which this "
                             "version lacks") from None
    from workbench.io.export import save_png

    draw = annotate.draw_detections if what == "detections" else annotate.draw_segmentation
    picture = np.asarray(draw(image, result))
    if picture.dtype != np.uint8:
        picture = np.round(np.clip(picture, 0.0, 1.0) * 255.0).astype(np.uint8)
    save_png(path, picture, {"Caption": f"{what} drawn over the image"})
    return str(path)
