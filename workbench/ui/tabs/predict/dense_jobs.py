"""Worker jobs of the Predict tab for dense models: every detection (the tab filters them
by score and class without recomputing) or the class of every pixel, with the exact
model input as numpy for display."""

from __future__ import annotations


def detect_job(model, image, ctx):
    """``(Detections at threshold 0, model-input picture (h, w, 3))``."""
    from workbench.core.preprocess import model_input, to_image
    from workbench.core.tasks.detection import check_detector, raw_detections, to_detections

    check_detector(model)
    ctx.progress(0.1, f"Detecting with {model.name}")
    x = model_input(model, image)
    (det,) = raw_detections(model, x)
    ctx.check()
    ctx.progress(1.0, "Detected")
    return to_detections(det, model, image.shape[:2], 0.0), to_image(x)


def segment_job(model, image, ctx):
    """``(Segmentation, model-input picture (h, w, 3))``."""
    from workbench.core.preprocess import model_input, to_image
    from workbench.core.tasks.segmentation import class_scores, to_segmentation

    ctx.progress(0.1, f"Segmenting with {model.name}")
    x = model_input(model, image)
    logits = class_scores(model, x)
    ctx.check()
    ctx.progress(1.0, "Segmented")
    return to_segmentation(logits[0], model, image.shape[:2]), to_image(x)


def dense_job(model, image, ctx):
    """The Predict job of a detector or a segmenter."""
    return (detect_job if model.task == "detection" else segment_job)(model, image, ctx)
