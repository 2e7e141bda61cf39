"""A report as a multi-page PDF, laid out by fpdf2: a title page with the provenance and
the contents, then each section on its own page(s) — heading, figure fitted to the page,
the table of its parameters, the table of the numbers behind the figure, its provenance —
and page numbers.  DejaVu Sans when found (every label's "→ · ε ≤" as drawn), else the PDF
core fonts with those characters spelled out.  Written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from fpdf import FPDF
from fpdf.fonts import FontFace
from PIL import Image

from workbench.core.report.document import Report, Section, cell_text
from workbench.io.atomic import write_bytes_atomic

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu",
             "/usr/share/fonts/TTF", "/Library/Fonts", "C:/Windows/Fonts")
MAX_FIGURE_PX = 2200  # wider figures are downscaled (≈ 300 dpi across the page)
FIGURE_SHARE = 0.42  # of the printable height a figure may take
MUTED = (90, 90, 90)
HEAD_FILL = (225, 230, 238)
PLAIN = {"→": "->", "←": "<-", "·": "-", "…": "...", "–": "-", "—": "-", "≤": "<=",
         "≥": ">=", "ε": "eps", "∞": "inf", "×": "x", "★": "*", "±": "+/-", "²": "2",
         "’": "'", "“": '"', "”": '"', "−": "-"}


def find_font(name: str) -> str | None:
    """The path of TrueType font ``name`` (e.g. ``DejaVuSans.ttf``), or ``None``."""
    extra = os.environ.get("WORKBENCH_FONT_DIR")
    folders = ([extra] if extra else []) + list(FONT_DIRS)
    try:
        import matplotlib

        folders.append(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf"))
    except ImportError:
        pass
    for folder in folders:
        path = Path(folder) / name
        if path.is_file():
            return str(path)
    return None


def plain_text(text: str) -> str:
    """``text`` in the core fonts' Latin-1: known symbols spelled out, others as ``?``."""
    for symbol, spelled in PLAIN.items():
        text = text.replace(symbol, spelled)
    return text.encode("latin-1", "replace").decode("latin-1")


class ReportPdf(FPDF):
    """An A4 document with a footer (report title, page N of M)."""

    def __init__(self, title: str, unicode_fonts: bool | None = None):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.report_title = title
        regular, bold = find_font("DejaVuSans.ttf"), find_font("DejaVuSans-Bold.ttf")
        use = (regular and bold) if unicode_fonts is None else unicode_fonts and regular and bold
        if use:
            self.add_font("body", "", regular)
            self.add_font("body", "B", bold)
            self.face = "body"
        else:
            self.face = "helvetica"
        self.unicode = bool(use)
        self.set_auto_page_break(True, margin=16)
        self.set_margins(15, 15, 15)
        self.set_title(self.t(title))
        self.set_creator("Workbench")

    def t(self, text) -> str:
        text = str(text)
        return text if self.unicode else plain_text(text)

    def font(self, size: float, bold: bool = False, colour=(20, 20, 20)) -> None:
        self.set_font(self.face, "B" if bold else "", size)
        self.set_text_color(*colour)

    def footer(self) -> None:
        self.set_y(-12)
        self.font(8, colour=MUTED)
        self.cell(0, 5, self.t(f"{self.report_title} · page {self.page_no()} of {{nb}}"),
                  align="C")

    def paragraph(self, text: str, size: float = 10, bold: bool = False, colour=(20, 20, 20),
                  gap: float = 1.5) -> None:
        self.font(size, bold, colour)
        self.multi_cell(0, size * 0.5, self.t(text), align="L", new_x="LMARGIN",
                        new_y="NEXT")
        self.ln(gap)

    def heading(self, text: str, size: float = 11) -> None:
        """A heading kept with what follows it: a new page when too little room is left."""
        if self.will_page_break(16):
            self.add_page()
        self.paragraph(text, size, True, gap=1)

    def grid(self, header: list[str], rows: list[list], widths=None, size: float = 8.5,
             share: float = 1.0) -> None:
        """A table with a shaded header row (repeated on each page it spans), ``share`` of
        the text width wide."""
        self.font(size)
        style = FontFace(emphasis="BOLD", fill_color=HEAD_FILL)
        with self.table(col_widths=widths, headings_style=style, line_height=size * 0.47,
                        text_align="LEFT", padding=0.9, first_row_as_headings=True,
                        width=self.epw * share, align="LEFT") as table:
            for values in [header, *rows]:
                line = table.row()
                for value in values:
                    line.cell(self.t(cell_text(value)))
        self.ln(3)


def write_pdf(path, report: Report, overwrite: bool = True,
              unicode_fonts: bool | None = None) -> int:
    """Write ``report`` as a PDF at ``path`` (atomically); returns its number of pages."""
    data, pages = pdf_bytes(report, unicode_fonts)
    write_bytes_atomic(path, data, overwrite=overwrite)
    return pages


def pdf_bytes(report: Report, unicode_fonts: bool | None = None) -> tuple[bytes, int]:
    """The PDF's bytes and its number of pages."""
    pdf = ReportPdf(report.title, unicode_fonts)
    pdf.alias_nb_pages()
    _title_page(pdf, report)
    for section in report.sections:
        _section_pages(pdf, section)
    data = bytes(pdf.output())
    return data, pdf.pages_count


def _title_page(pdf: ReportPdf, report: Report) -> None:
    pdf.add_page()
    pdf.paragraph(report.title, 20, True, gap=2)
    pdf.paragraph(f"{len(report.sections)} sections · inputs: {', '.join(report.inputs)} · "
                  f"created {report.created} in {report.seconds:.1f} s", 10, colour=MUTED)
    record = report.provenance
    rows = [["model", record.get("model", "")], ["weights", record.get("weights", "")],
            ["weights SHA-256", record.get("weights_sha256", "")],
            ["Workbench", record.get("workbench", "")], ["torch", record.get("torch", "")],
            ["device", record.get("device", "")], ["date", record.get("date", "")]]
    pdf.grid(["provenance", ""], rows, widths=(1, 3))
    pages = 1 if len(report.sections) <= 16 else 2 + (len(report.sections) - 16) // 40
    pdf.paragraph("Contents", 13, True)
    pdf.insert_toc_placeholder(_contents, pages=pages, reset_page_indices=False)
    pdf.fresh_page = True  # the placeholder's page break opened the first section's page


def _contents(pdf: ReportPdf, outline) -> None:
    pdf.font(10)
    pdf.set_x(pdf.l_margin)
    for entry in outline:
        link = pdf.add_link(page=entry.page_number)
        width = pdf.epw - 16
        pdf.cell(width, 6, pdf.t(entry.name)[:110], link=link, new_x="RIGHT")
        pdf.cell(16, 6, str(entry.page_number), align="R", link=link, new_x="LMARGIN",
                 new_y="NEXT")


def _section_pages(pdf: ReportPdf, section: Section) -> None:
    if not getattr(pdf, "fresh_page", False):
        pdf.add_page()
    pdf.fresh_page = False
    label = section.title + (f" — {section.input}" if section.input and
                             section.input not in section.title else "")
    pdf.start_section(pdf.t(label)[:120])
    pdf.paragraph(section.title, 15, True, gap=1)
    if section.input:
        pdf.paragraph(f"input: {section.input}" + (" · reused from the session"
                                                    if section.reused else ""), 9, colour=MUTED)
    if section.figure is not None:
        _figure(pdf, section.figure)
    if section.note:
        pdf.paragraph(section.note, 9, colour=MUTED)
    pdf.heading("Parameters")
    pdf.grid(["parameter", "value"], [[k, v] for k, v in section.params.items()], (2, 3),
             share=0.7)
    if section.numbers:
        header = list(dict.fromkeys(k for row in section.numbers for k in row))
        pdf.heading("Numbers")
        pdf.grid(header, [[row.get(k, "") for k in header] for row in section.numbers])
    pdf.heading("Provenance")
    pdf.paragraph(_provenance_text(section.provenance), 8, colour=MUTED)


def _figure(pdf: ReportPdf, figure: np.ndarray) -> None:
    image = Image.fromarray(np.ascontiguousarray(figure))
    if image.width > MAX_FIGURE_PX:
        height = round(image.height * MAX_FIGURE_PX / image.width)
        image = image.resize((MAX_FIGURE_PX, height), Image.Resampling.LANCZOS)
    width = pdf.epw
    height = width * image.height / image.width
    limit = min(pdf.eph * FIGURE_SHARE, pdf.h - pdf.b_margin - pdf.y - 4)
    if height > limit:
        width, height = width * limit / height, limit
    pdf.image(image, x=pdf.l_margin + (pdf.epw - width) / 2, y=pdf.y, w=width, h=height)
    pdf.set_y(pdf.y + height + 3)


def _provenance_text(record: dict) -> str:
    parts = []
    for key, value in record.items():
        if key == "params":
            continue
        parts.append(f"{key.replace('_', ' ')}: {cell_text(value)}")
    return " · ".join(parts)
