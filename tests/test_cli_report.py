"""``workbench report``: both formats and ``--json`` from one run; one line per mistake."""

import json

import numpy as np
import pytest
from PIL import Image

from workbench.cli import main
from workbench.io.samples import sample_path

pdfium = pytest.importorskip("pypdfium2")
CHELSEA = str(sample_path("chelsea"))
FAST = ["--model", "digits_lenet", "--window", "8", "--stride", "4", "--featviz-steps", "4"]


def test_pdf_html_and_json_in_one_run(tmp_path, capsys):
    pdf, page = tmp_path / "r.pdf", tmp_path / "r.html"
    mask = np.zeros((32, 32), np.uint8)
    mask[4:16, 4:16] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    code = main(["report", CHELSEA, "--sections", "predict,gradcam,occlusion,paint-occlusion,"
                 "adversarial,model", "--mask", str(tmp_path / "mask.png"), *FAST,
                 "--out", str(pdf), "--out", str(page), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    kinds = [s["kind"] for s in summary["sections"]]
    assert kinds == ["predict", "gradcam", "occlusion", "paint-occlusion", "adversarial",
                     "model"]
    pages = summary["outputs"][0]["pages"]
    document = pdfium.PdfDocument(str(pdf))
    try:
        assert len(document) == pages
        starts = section_pages(document, [s["title"] for s in summary["sections"]])
        for index in starts:
            assert figure_on_page(document[index]), f"page {index + 1} has no figure"
    finally:
        document.close()
    html = page.read_text(encoding="utf-8")
    assert summary["provenance"]["weights_sha256"] in html
    assert all(f'data-kind="{k}"' in html for k in kinds)
    top = summary["sections"][0]["numbers"][0]
    assert top["rank"] == 1 and 0 < top["probability"] <= 1


def section_pages(document, titles) -> list[int]:
    """The page each section starts on (its title at the top)."""
    texts = [document[i].get_textpage().get_text_range() for i in range(len(document))]
    found = []
    for title in titles:
        found.append(next(i for i, text in enumerate(texts) if i and
                          text.strip().startswith(title[:30])))
    return found


def figure_on_page(page) -> bool:
    """A picture covering a good part of the page whose rendered pixels are not blank."""
    width, height = page.get_size()
    scale = 0.8
    rendered = np.asarray(page.render(scale=scale).to_pil().convert("L"), dtype=float)
    for obj in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE]):
        left, bottom, right, top = obj.get_bounds()
        if (right - left) * (top - bottom) < 0.05 * width * height:
            continue
        box = rendered[int((height - top) * scale): int((height - bottom) * scale),
                       int(left * scale): int(right * scale)]
        if box.size and box.std() > 10:
            return True
    return False


@pytest.mark.parametrize("argv, message", [
    (["report", "missing.png", "--out", "{tmp}/a.pdf"], "missing.png"),
    (["report", CHELSEA, "--out", "{tmp}/a.docx"], ".pdf or .html"),
    (["report", CHELSEA, "--sections", "predict,nope", "--out", "{tmp}/a.pdf"], "nope"),
    (["report", CHELSEA, "--sections", "paint-occlusion", "--out", "{tmp}/a.pdf"], "--mask"),
    (["report", CHELSEA, "--sections", "video", "--out", "{tmp}/a.pdf"], "needs a video"),
    (["report", CHELSEA, "--sections", "gradcam", "--param", "zzz=1", "--out", "{tmp}/a.pdf"],
     "zzz"),
    (["report", CHELSEA, "--layer", "nope", "--out", "{tmp}/a.pdf"], "nope"),
    (["report", CHELSEA, "--out", "{tmp}/exists.pdf"], "already exists"),
])
def test_mistakes_are_one_line(tmp_path, capsys, argv, message):
    (tmp_path / "exists.pdf").write_bytes(b"x")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if "--model" not in argv:
        argv += ["--model", "digits_lenet"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / "a.pdf").exists()
