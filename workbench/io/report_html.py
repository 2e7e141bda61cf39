"""A report as one self-contained HTML page: the figures as base64 PNG data URIs, a small
inline stylesheet (light, and dark when the reader's system is dark), the tables of
parameters and numbers, and the provenance.  Nothing is fetched: the only links are to
the methods' papers.  Written atomically."""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import numpy as np
from PIL import Image

from workbench.core.report.document import Report, Section, cell_text
from workbench.io.atomic import write_bytes_atomic

STYLE = """
body{font-family:"DejaVu Sans",system-ui,sans-serif;margin:0 auto;max-width:1100px;
padding:24px;color:#1a1a1a;background:#fff;line-height:1.45}
h1{font-size:1.8em;margin:0 0 .2em}h2{font-size:1.3em;margin:1.6em 0 .2em;
border-top:1px solid #ccc;padding-top:.8em}h3{font-size:1em;margin:1em 0 .3em}
.muted{color:#555;font-size:.9em}figure{margin:.8em 0}figure img{max-width:100%;height:auto;
border:1px solid #ddd}table{border-collapse:collapse;margin:.3em 0 .8em;font-size:.88em}
th,td{border:1px solid #bbb;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#e1e6ee}td.num{text-align:right;font-variant-numeric:tabular-nums}
.prov{font-size:.8em;color:#555;word-break:break-all}nav li{margin:.15em 0}
@media (prefers-color-scheme:dark){body{background:#1e1f22;color:#e8e8e8}
th{background:#34383f}th,td{border-color:#555}.muted,.prov{color:#bbb}a{color:#8cb4ff}}
"""
URL = re.compile(r"https?://\S+")


def write_html(path, report: Report, overwrite: bool = True) -> Path:
    """Write ``report`` as one HTML file at ``path`` (atomically); returns the path."""
    return write_bytes_atomic(path, html_text(report).encode("utf-8"), overwrite=overwrite)


def html_text(report: Report) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{_e(report.title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{_e(report.title)}</h1>",
             f'<p class="muted">{len(report.sections)} sections · inputs: '
             f'{_e(", ".join(report.inputs))} · created {_e(report.created)} in '
             f"{report.seconds:.1f} s</p>", _summary(report.provenance), _contents(report)]
    parts += [_section(i, s) for i, s in enumerate(report.sections)]
    parts.append("</body></html>")
    return "\n".join(parts)


def _summary(record: dict) -> str:
    keys = (("model", "model"), ("weights", "weights"), ("weights SHA-256", "weights_sha256"),
            ("Workbench", "workbench"), ("torch", "torch"), ("device", "device"),
            ("date", "date"))
    return _table(["provenance", ""], [[label, record.get(key, "")] for label, key in keys])


def _contents(report: Report) -> str:
    items = "".join(f'<li><a href="#s{i}">{_e(_heading(s))}</a></li>'
                    for i, s in enumerate(report.sections))
    return f"<nav><h3>Contents</h3><ol>{items}</ol></nav>"


def _heading(section: Section) -> str:
    extra = section.input and section.input not in section.title
    return section.title + (f" — {section.input}" if extra else "")


def _section(index: int, section: Section) -> str:
    parts = [f'<section id="s{index}" data-kind="{_e(section.kind)}">',
             f"<h2>{_e(section.title)}</h2>"]
    if section.input:
        reused = " · reused from the session" if section.reused else ""
        parts.append(f'<p class="muted">input: {_e(section.input)}{reused}</p>')
    if section.figure is not None:
        parts.append(f'<figure><img alt="{_e(section.title)}" src="{data_uri(section.figure)}">'
                     "</figure>")
    if section.note:
        parts.append(f'<p class="muted">{_e(section.note)}</p>')
    parts.append("<h3>Parameters</h3>")
    parts.append(_table(["parameter", "value"], [[k, v] for k, v in section.params.items()]))
    if section.numbers:
        header = list(dict.fromkeys(k for row in section.numbers for k in row))
        parts.append("<h3>Numbers</h3>")
        parts.append(_table(header, [[row.get(k, "") for k in header]
                                     for row in section.numbers]))
    parts.append("<h3>Provenance</h3>")
    parts.append(f'<p class="prov">{_provenance(section.provenance)}</p></section>')
    return "\n".join(parts)


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value) -> str:
    numeric = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    return f'<td class="num">{_e(cell_text(value))}</td>' if numeric else \
        f"<td>{_e(cell_text(value))}</td>"


def _provenance(record: dict) -> str:
    parts = []
    for key, value in record.items():
        if key == "params":
            continue
        text = _e(cell_text(value))
        if key == "paper":
            text = URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', text)
        parts.append(f"<b>{_e(key.replace('_', ' '))}</b>: {text}")
    return " · ".join(parts)


def data_uri(figure: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(figure)).save(buffer, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _e(text) -> str:
    return html.escape(str(text), quote=True)
