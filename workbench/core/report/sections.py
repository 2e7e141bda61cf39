"""The registry of report sections: one small builder per analysis.

A builder is ``fn(model, inp, options, ctx, prior=None) -> Section``; ``prior`` is a core
result already computed in the session (a :class:`~workbench.core.predict.Prediction`, an
:class:`~workbench.core.attribution.AttributionResult`, …) that is drawn instead of being
computed again.  Every attribution method in :mod:`workbench.core.attribution` is a section
under its own name.  The builders reuse the core jobs and :func:`~workbench.io.figure.
render_figure`, so a report's figures equal the exported ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from workbench.core.report.document import ReportInput, ReportOptions, Section
from workbench.errors import WorkbenchError

INPUT, ONCE, VIDEO = "input", "once", "video"  # what a section runs on


@dataclass(frozen=True)
class SectionKind:
    name: str
    title: str
    builder: Callable
    scope: str = INPUT  # INPUT: each picture; ONCE: once per report; VIDEO: each video


SECTIONS: dict[str, SectionKind] = {}
DEFAULT_SECTIONS = ("predict", "gradcam", "occlusion")


def register(name: str, title: str, scope: str = INPUT):
    def wrap(fn):
        SECTIONS[name] = SectionKind(name, title, fn, scope)
        return fn
    return wrap


def section_kind(name: str) -> SectionKind:
    """The registered section ``name``; an attribution method's name gives its section."""
    from workbench.core import report as _package  # noqa: F401 - registers every builder
    from workbench.core.attribution import METHODS

    if name in SECTIONS:
        return SECTIONS[name]
    if name in METHODS:
        method = METHODS[name]
        return SectionKind(name, method.title, _attribution_builder(name))
    raise WorkbenchError(f"unknown report section '{name}'; choose from "
                         f"{', '.join(section_names())}")


def section_names() -> list[str]:
    from workbench.core import report as _package  # noqa: F401
    from workbench.core.attribution import METHOD_ORDER

    return ["predict", *METHOD_ORDER, *(n for n in SECTIONS if n != "predict")]


def parse_sections(text: str) -> list[str]:
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not names:
        raise WorkbenchError("--sections is empty; e.g. --sections predict,gradcam,occlusion")
    for name in names:
        section_kind(name)
    return list(dict.fromkeys(names))


# ------------------------------------------------------------------ shared pieces
def model_picture(model, inp: ReportInput):
    """``(x, picture)``: the pixel tensor the model sees and it as an ``(H, W, 3)`` image."""
    from workbench.core.preprocess import model_input, shown_map, to_image

    if inp.image is None:
        raise WorkbenchError(f"{inp.label} has no picture to analyse")
    x = model_input(model, inp.image)
    picture = to_image(x)
    return x, (shown_map(picture) if picture.ndim == 4 else picture)


def map_panel(picture, heat, units: str, title: str, colormap: str = "inferno"):
    """``heat`` over ``picture`` with its colour bar (as ``workbench cam --out`` draws it)."""
    from workbench.io.figure import FigurePanel
    from workbench.io.overlay import color_scale, overlay

    scale = color_scale(heat, colormap, units)
    return FigurePanel(overlay(picture, heat, colormap, units=units), title, scale,
                       note=scale.warning())


def figure(panels, title: str, record: dict, dark: bool = False) -> np.ndarray:
    """A section's picture: its panels under its title.  The provenance caption is not drawn
    into it: the page prints it below the figure and the file's metadata keeps it."""
    from workbench.io.figure import render_figure

    del record  # kept in the section (and the page), not in the picture
    return render_figure(panels, title, "", dark=dark)


def class_rows(model, probs, k: int, prefix: str = "") -> list[dict]:
    order = np.argsort(-np.asarray(probs))[:k]
    return [{"rank": r + 1, "class": int(i), "label": model.label(int(i)),
             f"{prefix}probability": float(probs[i])} for r, i in enumerate(order)]


def _target_text(model, target: int) -> str:
    return f"'{model.label(target)}' (class {target})"


# ------------------------------------------------------------------ sections
@register("predict", "Prediction")
def predict_section(model, inp, options: ReportOptions, ctx, prior=None) -> Section:
    from workbench.core.predict import predict_pixels
    from workbench.core.provenance import provenance
    from workbench.io.figure import FigurePanel
    from workbench.io.report_charts import bar_chart

    x, picture = model_picture(model, inp)
    prediction = prior or predict_pixels(model, x, options.topk, ctx)
    top = prediction.top[: options.topk]
    params = {"topk": options.topk}
    record = provenance(model, "prediction", None, params, image=inp.label)
    chart = bar_chart([s.label for s in top], [s.prob for s in top], unit="%", maximum=1.0,
                      dark=options.dark)
    panels = [FigurePanel(picture, "model input"),
              FigurePanel(chart, f"top-{len(top)} probabilities")]
    title = f"Prediction: {top[0].label} ({top[0].prob:.1%})"
    numbers = [{"rank": r + 1, "class": s.index, "label": s.label, "probability": s.prob}
               for r, s in enumerate(top)]
    return Section("predict", title, figure(panels, title, record, options.dark), params,
                   numbers, record, inp.label, reused=prior is not None)


def _attribution_builder(name: str):
    def build(model, inp, options, ctx, prior=None):
        return attribution_section(name, model, inp, options, ctx, prior)
    return build


def method_overrides(method, values: dict) -> dict:
    """The parameters in ``values`` that ``method`` declares (others belong to others)."""
    from workbench.core.params import describe

    names = {info.name for info in describe(method.params_cls)} if method.params_cls else set()
    return {k: v for k, v in values.items() if k in names}


def attribution_section(name, model, inp, options: ReportOptions, ctx, prior=None) -> Section:
    from dataclasses import asdict

    from workbench.core.attribution import attribute, faithfulness, get_method
    from workbench.core.attribution.faithfulness import FaithfulnessParams
    from workbench.core.params import make
    from workbench.core.provenance import provenance

    method = get_method(name)
    overrides = method_overrides(method, options.method_params)
    x, picture = model_picture(model, inp)
    layer = options.layer if method.needs_layer else None
    result = prior or attribute(model, x, name, layer=layer, params=overrides, ctx=ctx)
    heat = result.numpy()[0].astype(np.float32)
    frame = heat if heat.ndim == 2 else heat.mean(0)
    target = int(result.targets[0])
    params = {**(asdict(make(method.params_cls, overrides)) if method.params_cls else {}),
              "layer": result.layer or "the input", "target": target}
    units = "attribution value"
    where = result.layer or "the input"
    title = f"{method.title} of {_target_text(model, target)} at {where}"
    record = provenance(model, method.title, result.layer, params, image=inp.label,
                        paper=method.paper)
    numbers = [{"quantity": "target", "value": f"{model.label(target)} ({target})"},
               {"quantity": "map minimum", "value": float(np.nanmin(frame))},
               {"quantity": "map maximum", "value": float(np.nanmax(frame))},
               {"quantity": "map shape", "value": "×".join(map(str, heat.shape))}]
    if options.faithfulness:
        ctx.check()
        settings = FaithfulnessParams(steps=options.faithfulness_steps)
        score = faithfulness(model, x, result.maps[0], target, settings, ctx=ctx)
        params["faithfulness_steps"] = options.faithfulness_steps
        numbers += [{"quantity": "deletion AUC (lower is better)", "value": score.deletion_auc},
                    {"quantity": "insertion AUC (higher is better)",
                     "value": score.insertion_auc}]
    panels = [map_panel(picture, frame, units, method.title, options.colormap)]
    return Section(name, title, figure(panels, title, record, options.dark), params, numbers,
                   record, inp.label, reused=prior is not None)


@register("occlusion", "Occlusion sweep")
def occlusion_section(model, inp, options: ReportOptions, ctx, prior=None) -> Section:
    from workbench.core.occlusion import OcclusionParams, occlusion_map, parse_fill
    from workbench.core.params import validate
    from workbench.core.provenance import provenance

    x, picture = model_picture(model, inp)
    fill = parse_fill(options.fill)
    result = prior
    if result is None:
        settings = OcclusionParams(window=options.window, stride=options.stride)
        validate(settings)
        result = occlusion_map(model, x, fill, None, settings, ctx)
    label = model.label(result.target)
    params = {"window": result.window, "stride": result.stride, "fill": fill,
              "target": result.target}
    record = provenance(model, "occlusion sweep", None, params, image=inp.label, target=label)
    title = f"Occlusion: drop in p({label}) with each window hidden"
    panel = map_panel(picture, result.pixel_map(), f"drop in p({label})", "sweep",
                      options.colormap)
    drop = result.drop
    numbers = [{"quantity": f"p({label}) unoccluded",
                "value": float(result.base_probs[result.target])},
               {"quantity": "grid (rows × columns)", "value": "×".join(map(str, drop.shape))},
               {"quantity": "largest drop", "value": float(np.nanmax(drop))},
               {"quantity": "mean drop", "value": float(np.nanmean(drop))},
               {"quantity": f"lowest p({label})", "value": float(np.nanmin(result.target_prob))}]
    for rank, flat in enumerate(np.argsort(-np.nan_to_num(drop, nan=-np.inf), axis=None)[:3]):
        i, j = np.unravel_index(flat, drop.shape)
        numbers.append({"quantity": f"window #{rank + 1} at y={i * result.stride}, "
                                    f"x={j * result.stride}", "value": float(drop[i, j])})
    return Section("occlusion", title, figure([panel], title, record, options.dark), params,
                   numbers, record, inp.label, reused=prior is not None)


@register("paint-occlusion", "Painted occlusion")
def paint_section(model, inp, options: ReportOptions, ctx, prior=None) -> Section:
    from workbench.core.occlusion import parse_fill, predict_masked
    from workbench.core.provenance import provenance
    from workbench.io.figure import FigurePanel
    from workbench.io.masks import load_mask

    if options.mask is None and prior is None:
        raise WorkbenchError("the paint-occlusion section needs a mask (--mask MASK.png, "
                             "white = hidden)")
    x, picture = model_picture(model, inp)
    fill = parse_fill(options.fill)
    mask = options.mask
    if isinstance(mask, (str, bytes)) or hasattr(mask, "__fspath__"):
        mask = load_mask(mask)
    result = prior or predict_masked(model, x, mask, fill, options.topk, ctx=ctx)
    params = {"mask": _mask_name(options.mask), "fill": fill, "topk": options.topk}
    record = provenance(model, "painted occlusion", None, params, image=inp.label)
    before = class_rows(model, result.base_probs, options.topk)
    top = result.top[0]
    title = f"Painted occlusion: {before[0]['label']} → {top.label} ({top.prob:.1%})"
    panels = [FigurePanel(picture, "original"), FigurePanel(result.masked_image, "masked")]
    numbers = [{"rank": r["rank"], "before": f"{r['label']} ({r['probability']:.1%})",
                "after": f"{row['label']} ({row['prob']:.1%})",
                "change of the class after": row["delta"]}
               for r, row in zip(before, result.rows(options.topk), strict=False)]
    return Section("paint-occlusion", title, figure(panels, title, record, options.dark),
                   params, numbers, record, inp.label, reused=prior is not None)


def _mask_name(mask) -> str:
    if mask is None:
        return "painted in the session"
    if isinstance(mask, np.ndarray):
        return f"painted, {mask.shape[1]}×{mask.shape[0]}, {float(np.mean(mask > 0.5)):.1%} hidden"
    return str(mask)


@register("adversarial", "Adversarial example")
def adversarial_section(model, inp, options: ReportOptions, ctx, prior=None) -> Section:
    from workbench.core.adversarial import attack, get_attack
    from workbench.core.adversarial.base import describe_params
    from workbench.core.preprocess import to_image
    from workbench.core.provenance import provenance
    from workbench.io.figure import FigurePanel
    from workbench.io.perturbation import amplification, amplify, perturbation_scale

    if model.kind != "image":
        raise WorkbenchError(f"the adversarial section needs an image model; {model.name} is "
                             f"a {model.kind} model")
    x, picture = model_picture(model, inp)
    method = get_attack(prior.method if prior is not None else options.attack)
    result = prior
    if result is None:
        result = attack(model, x, method.name, target=options.attack_target,
                        params=attack_overrides(method, options), ctx=ctx)
    params = describe_params(result.params)
    if result.targeted:
        params["target"] = int(result.targets[0])
    linf, l2 = float(result.linf[0]), float(result.l2[0])
    factor = amplification(linf)
    noise = result.perturbation[0].detach().float().cpu().numpy().transpose(1, 2, 0)
    before, after = result.probs_before[0].cpu().numpy(), result.probs_after[0].cpu().numpy()
    b, a = int(before.argmax()), int(after.argmax())
    title = (f"{method.title}: {model.label(b)} ({before[b]:.1%}) → {model.label(a)} "
             f"({after[a]:.1%}), L∞ {linf * 255:.2f}/255")
    record = provenance(model, method.title, None, params, image=inp.label)
    panels = [FigurePanel(picture, "original"),
              FigurePanel(amplify(noise, factor), f"perturbation × {factor}",
                          perturbation_scale(factor)),
              FigurePanel(to_image(result.adversarial), "adversarial")]
    numbers = [{"quantity": "top-1 before", "value": f"{model.label(b)} ({before[b]:.2%})"},
               {"quantity": "top-1 after", "value": f"{model.label(a)} ({after[a]:.2%})"},
               {"quantity": f"p({model.label(b)}) after", "value": float(after[b])},
               {"quantity": "success", "value": bool(result.success[0])},
               {"quantity": "L∞ (pixel units)", "value": linf},
               {"quantity": "L∞ (/255)", "value": linf * 255},
               {"quantity": "L2 (pixel units)", "value": l2},
               {"quantity": "steps run", "value": int(result.steps_run)}]
    return Section("adversarial", title, figure(panels, title, record, options.dark), params,
                   numbers, record, inp.label, reused=prior is not None)



def attack_overrides(method, options: ReportOptions) -> dict:
    """The attack parameters a report asks for: ``eps`` and ``steps`` (when given) and
    ``options.attack_params``, those that ``method`` declares."""
    values = {"eps": options.eps, "steps": options.attack_steps, **options.attack_params}
    return {k: v for k, v in method_overrides(method, values).items() if v is not None}
