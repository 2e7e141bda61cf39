"""Lessons 1–6: each ``setup(ctl, params)`` sets model, input, tab and parameters through
the panels' own widgets and public methods, as a user would, runs the demonstration, and
writes what it showed into the Lesson dock (``ctl.result``)."""

from __future__ import annotations

import numpy as np

IMAGE_MODEL = "efficientnet_lite0"


# ------------------------------------------------------------------ 1. video over time
def video_over_time(ctl, params) -> None:
    from workbench.io.samples import sample_path

    video = ctl.window.panel("Video")

    def run():
        video.modes.setCurrentIndex(0)
        video.every.setValue(params["every"])
        video.aggregation.setCurrentIndex(video.aggregation.findData("mean"))
        video.run_predictions()
        ctl.steps.when(lambda: video.predictions is not None
                       and video.predictions.done == len(video.predictions.indices), shown)

    def shown():
        model = ctl.window.state.model
        top = int(np.argmax(video.video_probs))
        ctl.result(f"{video.predictions.done} frames classified one by one (the timeline); "
                   f"their mean says <b>{model.label(top)}</b> "
                   f"({video.video_probs[top]:.1%}).<br>{video.formula.text()}")

    ctl.steps.prepare(IMAGE_MODEL, "Video", run, path=str(sample_path("bikes")))


# ------------------------------------------------------------------ 2. motion needs time
def motion_needs_time(ctl, params) -> None:
    from functools import partial

    from workbench.ui.lessons.jobs import motion_comparison_job

    window, video = ctl.window, ctl.window.panel("Video")
    window.open_motion_lesson()

    def compare():
        window.runner.submit(partial(motion_comparison_job, video.path,
                                     window.state.device or "cpu"),
                             name="Motion models compared", key="lesson-motion",
                             on_finished=shown, on_error=window.state.error)

    def shown(rows):
        ctl.outcome = rows
        lines = "".join(f"<tr><td>{r.name}</td><td>{r.accuracy:.0%}</td>"
                        f"<td>{''.join(d[0].upper() for d in r.top1)}</td></tr>"
                        for r in rows)
        ctl.result("Direction of each clip (R D L U, two clips each):"
                   f"<table cellspacing='4'><tr><th align='left'>model</th><th>correct</th>"
                   f"<th align='left'>clips</th></tr>{lines}</table>"
                   "The per-frame average cannot tell the direction; every model that sees "
                   "time can.")

    ctl.steps.when(lambda: video.predictions is not None and video.predictions.done == 8
                   and video.maps is not None, compare)


# ------------------------------------------------------------------ 3. occlusion (paint)
def face_mask(size=(224, 224), centre=(120, 125), radii=(70, 92)) -> np.ndarray:
    """An ellipse over Chelsea's eyes and nose, in model-input pixels."""
    rows, cols = np.ogrid[:size[0], :size[1]]
    return ((rows - centre[0]) / radii[0]) ** 2 + ((cols - centre[1]) / radii[1]) ** 2 <= 1


def occlusion_paint(ctl, params) -> None:
    panel = ctl.window.panel("Occlusion")

    def paint():
        panel.modes.setCurrentIndex(0)
        panel.fill.mode.setCurrentText(params["fill"])
        before = panel.masked
        panel.canvas.set_mask(face_mask(panel.canvas.mask.shape))
        ctl.steps.when(lambda: panel.masked is not before and panel.canvas.mask.any()
                       and panel.masked.probs is not None, shown)

    def shown():
        ctl.result(f"Hiding the face: {panel.target_label.text()}. Paint anywhere "
                   "(Paint page) to see which parts the prediction needs.")

    ctl.steps.prepare(IMAGE_MODEL, "Occlusion",
                      lambda: ctl.steps.when(lambda: panel.masked is not None, paint),
                      sample="chelsea")


# ------------------------------------------------------------------ 4. sliding window
def occlusion_sweep(ctl, params) -> None:
    panel = ctl.window.panel("Occlusion")

    def run():
        panel.modes.setCurrentIndex(1)
        panel.sweep_form.editors["window"].setValue(params["window"])
        panel.sweep_form.editors["stride"].setValue(params["stride"])
        panel.run_sweep()
        ctl.steps.when(lambda: panel.sweep_status.text().startswith("done"), shown)

    def shown():
        sweep, model = panel.sweep, ctl.window.state.model
        names = ", ".join(sorted({model.label(int(i)) for i in np.unique(sweep.top_class)
                                  if i >= 0})[:4])
        ctl.result(f"{sweep.total} windows of {params['window']} px every "
                   f"{params['stride']} px. The middle map names the most probable class "
                   f"with each window hidden" + (f" ({names})." if names else "."))

    ctl.steps.prepare(IMAGE_MODEL, "Occlusion", run, sample="chelsea")


# ------------------------------------------------------------------ 5. two classes
def two_classes(ctl, params) -> None:
    panel = ctl.window.panel("Attribution")
    page = panel.classes

    def run():
        labels = ctl.window.state.model.labels
        panel.views.setCurrentWidget(page)
        page.first.setCurrentIndex(labels.index(params["class_a"]))
        page.second.setCurrentIndex(labels.index(params["class_b"]))
        page.results = []
        page.compute_button.click()
        ctl.steps.when(lambda: len(page.results) == 2, shown)

    def shown():
        a, b = page.results
        ctl.result(f"Grad-CAM for “{a.label}” (p = {a.prob:.1%}) and for “{b.label}” "
                   f"(p = {b.prob:.1%}) on the same image: each class has its own evidence.")

    ctl.steps.prepare(IMAGE_MODEL, "Attribution",
                      lambda: ctl.steps.when(lambda: panel.result is not None, run),
                      sample=params["sample"])


# ------------------------------------------------------------------ 6. neighbours
def neighbours(ctl, params) -> None:
    panel = ctl.window.panel("Embeddings")

    def build():
        ctl.window.tabs.setCurrentWidget(panel)
        panel.set_source("digits")
        panel.method.setCurrentIndex(panel.method.findData("pca"))
        panel.k.setValue(params["k"])
        panel.map_data = None
        panel.build()
        ctl.steps.when(lambda: panel.map_data is not None, query)

    def query():
        panel.neighbours = None
        panel.neighbours_of_current()
        ctl.steps.when(lambda: panel.neighbours is not None, shown)

    def shown():
        _title, indices, _d = panel.neighbours
        labels = panel.map_data.labels[indices]
        same = int((labels == 0).sum())
        ctl.result(f"The {len(indices)} digits nearest to the held-out “digit 0” in "
                   f"{panel.layer.currentData()}'s feature space (cosine): {same} of them "
                   "are zeros too. Double-click one to open it.")

    ctl.window.tabs.setCurrentWidget(panel)
    ctl.steps.open_digits(build)
