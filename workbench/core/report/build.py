"""Run a report: every (input × section) in order, with progress over the whole and
cancellation between and inside the analyses; results already computed are reused."""

from __future__ import annotations

import inspect
import time
from pathlib import Path

import numpy as np

from workbench.core.jobs import JobContext, PlainContext
from workbench.core.report.document import Report, ReportInput, ReportOptions, Section
from workbench.core.report.sections import INPUT, ONCE, VIDEO, section_kind
from workbench.errors import WorkbenchError


def open_inputs(paths, frames=(0,)) -> list[ReportInput]:
    """Report inputs from files: an image gives one picture; a video gives itself (for the
    ``video`` section) and its frames at ``frames`` (for the others)."""
    from workbench.io.images import load_image
    from workbench.io.video import VideoReader, is_video_file

    inputs = []
    for entry in paths:
        path = Path(entry)
        if path.is_file() and is_video_file(path):
            inputs.append(ReportInput(path.name, None, str(path), video=True))
            with VideoReader(path, cache_mb=16) as reader:
                count = reader.info.frame_count
                for index in frames:
                    if not 0 <= int(index) < count:
                        raise WorkbenchError(f"{path.name} has frames 0 … {count - 1}, "
                                             f"not {index}")
                    inputs.append(ReportInput(path.name, reader.frame(int(index)), str(path),
                                              frame=int(index)))
        else:
            inputs.append(ReportInput(path.name, load_image(path), str(path)))
    if not inputs:
        raise WorkbenchError("a report needs at least one input")
    return inputs


def plan(sections: list[str], inputs: list[ReportInput]) -> list[tuple[str, ReportInput | None]]:
    """The (section, input) pairs to run, in report order: per-picture sections for each
    picture, ``video`` for each video, once-only sections (model, featviz) once."""
    pictures = [i for i in inputs if not i.video]
    videos = [i for i in inputs if i.video]
    jobs = []
    for name in sections:
        scope = section_kind(name).scope
        if scope == ONCE:
            jobs.append((name, pictures[0] if pictures else None))
        elif scope == VIDEO:
            jobs += [(name, v) for v in videos]
        else:
            jobs += [(name, p) for p in pictures]
    if not jobs:
        wanted = ", ".join(sections)
        raise WorkbenchError(f"nothing to report: the sections ({wanted}) do not apply to "
                             f"the inputs (the video section needs a video, the others a "
                             f"picture)")
    return jobs


def reuse_key(name: str, inp: ReportInput | None) -> tuple[str, str]:
    scope = section_kind(name).scope
    return name, "" if scope == ONCE or inp is None else inp.key


def build_report(model, inputs: list[ReportInput], sections: list[str],
                 options: ReportOptions | None = None, ctx: JobContext | None = None,
                 reuse: dict | None = None, title: str = "") -> Report:
    """Every section for every input it applies to.  ``reuse`` maps
    ``(section name, input key)`` (see :func:`reuse_key`) to a :class:`Section` or to a core
    result the section draws instead of computing it."""
    from workbench.core.provenance import provenance

    options = options or ReportOptions()
    ctx = ctx or PlainContext()
    reuse = reuse or {}
    began = time.perf_counter()
    jobs = plan(sections, inputs)
    done: list[Section] = []
    for number, (name, inp) in enumerate(jobs):
        ctx.check()
        what = f"{section_kind(name).title}" + (f" of {inp.label}" if inp else "")
        ctx.progress(number / len(jobs), f"Report: {what} ({number + 1} of {len(jobs)})")
        part = _slice(ctx, number, len(jobs), what)
        done.append(_run_one(model, name, inp, options, part, reuse, inputs))
    ctx.progress(1.0, "Report: done")
    record = provenance(model, "report", options.layer, {"sections": ", ".join(sections)})
    names = list(dict.fromkeys(i.label for i in inputs))
    return Report(title or f"Workbench report: {model.name}", done, record, names,
                  options.as_dict(), time.perf_counter() - began)


def _run_one(model, name, inp, options, ctx, reuse, inputs) -> Section:
    prior = reuse.get(reuse_key(name, inp))
    if isinstance(prior, Section):
        prior.reused = True
        return prior
    kind = section_kind(name)
    placeholder = ReportInput("", None) if inp is None else inp
    extra = {"inputs": inputs} if "inputs" in inspect.signature(kind.builder).parameters else {}
    section = kind.builder(model, placeholder, options, ctx, prior=prior, **extra)
    if kind.scope == INPUT and section.figure is not None:
        section.figure = np.ascontiguousarray(section.figure)
    return section


def _slice(ctx: JobContext, number: int, total: int, what: str) -> JobContext:
    """A context for job ``number`` of ``total``: its progress maps into its share of the
    whole and its messages say which analysis is running; cancelled with ``ctx``."""
    def forward(fraction, message=""):
        ctx.progress((number + fraction) / total,
                     f"Report {number + 1}/{total}: {message or what}")
    return JobContext(on_progress=forward, on_partial=None, cancel_event=ctx.cancel_event)
