"""The report writers: every PDF page rendered back (pypdfium2) shows its section's figure;
unicode labels survive with DejaVu and without it; the HTML page is self-contained."""

import re

import numpy as np
import pytest

from workbench.core.report import Report, Section
from workbench.io.figure import FigurePanel, render_figure
from workbench.io.report_html import write_html
from workbench.io.report_pdf import find_font, plain_text, write_pdf

pdfium = pytest.importorskip("pypdfium2")
SHA = "ab" * 32
COLOURS = [(230, 20, 20), (20, 160, 40), (30, 60, 220)]


def make_report(count: int = 3) -> Report:
    sections = []
    for index in range(count):
        picture = np.zeros((64, 64, 3), np.uint8) + np.array(COLOURS[index], np.uint8)
        figure = render_figure([FigurePanel(picture, "panel")], f"figure {index} → ε ≤ 8/255")
        record = {"model": "tiny", "weights": "here", "weights_sha256": SHA, "method": "m",
                  "layer": "conv", "params": {}, "workbench": "0", "torch": "2",
                  "device": "cpu", "date": "today", "paper": "https://arxiv.org/abs/1610.02391"}
        numbers = [{"quantity": "deletion AUC", "value": 0.25 + index},
                   {"quantity": "L∞ · norm", "value": 1.5}]
        sections.append(Section(f"kind{index}", f"Section {index} · α → β", figure,
                                {"eps": 8 / 255, "layer": "conv"}, numbers, record,
                                input="chelsea.png"))
    provenance = dict(sections[0].provenance)
    return Report("Test report", sections, provenance, ["chelsea.png"], {})


def pages_of(path):
    document = pdfium.PdfDocument(str(path))
    try:
        images = [np.asarray(document[i].render(scale=1.0).to_pil().convert("RGB"))
                  for i in range(len(document))]
        texts = [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()
    return images, texts


def colour_area(page: np.ndarray, colour) -> float:
    close = np.abs(page.astype(int) - np.array(colour)).max(axis=2) < 40
    return float(close.mean())


def test_each_section_page_shows_its_figure(tmp_path):
    path = tmp_path / "r.pdf"
    pages = write_pdf(path, make_report())
    images, texts = pages_of(path)
    assert pages == len(images) == 4  # title page + one per section
    for index, colour in enumerate(COLOURS):
        page = images[index + 1]
        assert colour_area(page, colour) > 0.05, f"section {index}'s figure is missing"
        others = [c for c in COLOURS if c != colour]
        assert all(colour_area(page, c) < 0.001 for c in others)
        assert f"Section {index}" in texts[index + 1]
    assert "Contents" in texts[0] and SHA in texts[0]
    assert "page 1 of 4" in texts[0]


@pytest.mark.skipif(find_font("DejaVuSans.ttf") is None, reason="DejaVu Sans not installed")
def test_unicode_labels_with_dejavu(tmp_path):
    path = tmp_path / "u.pdf"
    write_pdf(path, make_report(1))
    _, texts = pages_of(path)
    assert "α → β" in texts[1] and "L∞ · norm" in texts[1]


def test_core_fonts_spell_symbols_out(tmp_path):
    path = tmp_path / "c.pdf"
    write_pdf(path, make_report(1), unicode_fonts=False)
    _, texts = pages_of(path)
    assert "Section 0 - ? -> ?" in texts[1]  # α, β have no Latin-1 form
    assert plain_text("ε ≤ 8/255 · L∞") == "eps <= 8/255 - Linf"


def test_existing_file_is_kept_without_overwrite(tmp_path):
    from workbench.errors import WorkbenchError

    path = tmp_path / "r.pdf"
    path.write_bytes(b"old")
    with pytest.raises(WorkbenchError, match="already exists"):
        write_pdf(path, make_report(1), overwrite=False)
    assert path.read_bytes() == b"old"


def test_html_is_self_contained_with_every_section(tmp_path):
    path = tmp_path / "r.html"
    write_html(path, make_report())
    text = path.read_text(encoding="utf-8")
    links = re.findall(r'(?:src|href)="([^"]*)"', text)
    outside = [u for u in links if not (u.startswith("data:image/png;base64,") or
                                        u.startswith("#") or u.startswith("https://arxiv.org"))]
    assert outside == []
    assert "<link" not in text and "<script" not in text
    assert text.count('<img alt="') == 3
    for index in range(3):
        assert f'data-kind="kind{index}"' in text
        assert f"{0.25 + index:.4g}" in text
    assert SHA in text and "L∞ · norm" in text and "α → β" in text
