"""Reports (issue 16): every section builds its figure, parameters, numbers and provenance;
progress covers the whole; Cancel stops mid-way; results from the session are reused."""

import numpy as np
import pytest

from workbench.core.jobs import PlainContext
from workbench.core.report import (
    ReportInput,
    ReportOptions,
    Section,
    build_report,
    open_inputs,
    parse_sections,
    plan,
    reuse_key,
)
from workbench.errors import Cancelled, WorkbenchError

ALL = ["predict", "gradcam", "saliency", "occlusion", "paint-occlusion", "adversarial",
       "featviz", "embedding", "model"]


@pytest.fixture(scope="module")
def lenet():
    from workbench.core.models import load_model

    return load_model("digits_lenet")


@pytest.fixture(scope="module")
def digit_input():
    from workbench.core.models.digits_data import digits_images

    images, _targets = digits_images()
    picture = np.repeat(np.asarray(images[0], np.float32)[..., None], 3, axis=2)
    return ReportInput("digit", picture, "digits[0]")


def fast_options(**more) -> ReportOptions:
    mask = np.zeros((32, 32), np.float32)
    mask[8:20, 8:20] = 1.0
    values = dict(window=8, stride=4, featviz_steps=4, featviz_size=32, mask=mask,
                  faithfulness_steps=8)
    values.update(more)
    return ReportOptions(**values)


@pytest.fixture(scope="module")
def full_report(lenet, digit_input):
    seen = []
    ctx = PlainContext(on_progress=lambda f, m="": seen.append(f))
    report = build_report(lenet, [digit_input], ALL, fast_options(), ctx)
    return report, seen


def test_every_section_has_figure_params_numbers_provenance(full_report, lenet):
    report, _ = full_report
    assert [s.kind for s in report.sections] == ALL
    sha = report.provenance["weights_sha256"]
    for section in report.sections:
        assert section.figure is not None and section.figure.dtype == np.uint8
        assert section.figure.shape[0] > 200 and section.figure.shape[1] > 200
        assert section.params and section.numbers, section.kind
        assert section.provenance["weights_sha256"] == sha
        assert section.provenance["model"] == "digits_lenet"
        for key in ("workbench", "torch", "device", "date"):
            assert section.provenance[key]


def test_defaults_are_filled_and_numbers_are_the_ones_behind_the_figure(full_report):
    report, _ = full_report
    by = {s.kind: s for s in report.sections}
    assert by["gradcam"].params["layer"] == "relu2" and "weighting" in by["gradcam"].params
    quantities = {row["quantity"] for row in by["gradcam"].numbers}
    assert {"deletion AUC (lower is better)", "insertion AUC (higher is better)"} <= quantities
    top = by["predict"].numbers
    assert len(top) == 5 and top[0]["probability"] >= top[-1]["probability"]
    adv = {row["quantity"]: row["value"] for row in by["adversarial"].numbers}
    assert adv["L∞ (/255)"] == pytest.approx(8.0, abs=0.05)
    assert adv["L2 (pixel units)"] > 0
    assert by["occlusion"].params == {"window": 8, "stride": 4, "fill": 0.5,
                                      "target": by["occlusion"].params["target"]}
    assert len(by["embedding"].numbers) == 8
    assert by["model"].numbers[-1]["layer"] == "total"


def test_progress_covers_the_whole_report_in_order(full_report):
    _, seen = full_report
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in seen)
    shares = [round(f * len(ALL), 6) for f in seen]  # each analysis within its own share
    assert sorted(set(int(s) for s in shares if s < len(ALL))) == list(range(len(ALL)))


def test_cancel_stops_mid_way(lenet, digit_input, monkeypatch):
    from workbench.core.report import sections

    calls = []
    original = sections.occlusion_section

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setitem(sections.SECTIONS, "occlusion",
                        sections.SECTIONS["occlusion"].__class__("occlusion", "Occlusion",
                                                                  counting))
    ctx = PlainContext()

    def progress(fraction, message=""):
        if "Occlusion" in message or "occlusion" in message:
            ctx.cancel()

    ctx._on_progress = progress
    with pytest.raises(Cancelled):
        build_report(lenet, [digit_input], ["predict", "occlusion", "model"], fast_options(),
                     ctx)
    assert len(calls) <= 1  # cancelled at the start of (or inside) the sweep, never after


def test_reuse_skips_recomputation(lenet, digit_input, monkeypatch):
    import workbench.core.attribution as attribution
    from workbench.core.preprocess import model_input

    x = model_input(lenet, digit_input.image)
    prior = attribution.attribute(lenet, x, "gradcam")
    calls = []
    monkeypatch.setattr(attribution, "attribute", lambda *a, **k: calls.append(1) or prior)
    made = Section("predict", "Prediction (from the session)", None, {"topk": 5},
                   [{"rank": 1}], {"model": lenet.name})
    reuse = {reuse_key("gradcam", digit_input): prior, reuse_key("predict", digit_input): made}
    report = build_report(lenet, [digit_input], ["predict", "gradcam"],
                          fast_options(faithfulness=False), reuse=reuse)
    assert calls == []
    assert report.sections[0] is made and made.reused
    assert report.sections[1].reused and report.sections[1].figure is not None


def test_sections_parse_and_plan(digit_input):
    assert parse_sections("predict, gradcam,predict") == ["predict", "gradcam"]
    with pytest.raises(WorkbenchError, match="unknown report section 'nope'"):
        parse_sections("predict,nope")
    with pytest.raises(WorkbenchError, match="nothing to report"):
        plan(["video"], [digit_input])
    jobs = plan(["model", "predict"], [digit_input, digit_input])
    assert [name for name, _ in jobs] == ["model", "predict", "predict"]


def test_paint_occlusion_without_mask_is_one_line(lenet, digit_input):
    with pytest.raises(WorkbenchError, match="needs a mask"):
        build_report(lenet, [digit_input], ["paint-occlusion"], ReportOptions())


def test_video_input_gives_frames_and_timeline(lenet):
    from workbench.io.samples import sample_path

    video = sample_path("carphone")
    inputs = open_inputs([video], frames=(0, 5))
    assert [i.frame for i in inputs] == [None, 0, 5] and inputs[0].video
    report = build_report(lenet, inputs, ["predict", "video"],
                          fast_options(video_fps=1.0))
    kinds = [(s.kind, s.input) for s in report.sections]
    assert kinds[:2] == [("predict", inputs[1].label), ("predict", inputs[2].label)]
    timeline = report.sections[-1]
    assert timeline.kind == "video" and timeline.figure is not None
    assert timeline.note.startswith("p(") or "=" in timeline.note
    with pytest.raises(WorkbenchError, match="has frames 0"):
        open_inputs([video], frames=(10**6,))


def test_figures_carry_no_caption_and_the_perturbation_is_drawn_by_io(lenet, digit_input,
                                                                       monkeypatch):
    import workbench.io.figure as figure_module
    from workbench.io.perturbation import amplification, amplify

    captions = []
    real = figure_module.render_figure
    monkeypatch.setattr(figure_module, "render_figure",
                        lambda panels, title="", caption="", **k:
                        captions.append(caption) or real(panels, title, caption, **k))
    report = build_report(lenet, [digit_input], ["predict", "adversarial"], fast_options())
    assert captions == ["", ""] and all(s.provenance for s in report.sections)
    assert amplification(8 / 255) == 16 and amplify(np.array([-1.0, 0.0, 1.0]), 0.25) \
        .tolist() == [0.25, 0.5, 0.75]


def test_video_frames_follow_every_and_span():
    from types import SimpleNamespace

    from workbench.core.report import video_frames

    info = SimpleNamespace(frame_count=100, fps=25.0)
    assert video_frames(info, ReportOptions()).tolist() == list(range(0, 100, 12))
    chosen = ReportOptions(video_every=24, video_span=(10, 90))
    assert video_frames(info, chosen).tolist() == [10, 34, 58, 82]
