"""Reports: chosen analyses of chosen inputs as one document (issue 16).

``build_report(model, open_inputs(paths), ["predict", "gradcam", "occlusion"], options,
ctx)`` runs every section with progress and cancellation and returns a :class:`Report`;
:mod:`workbench.io.report_pdf` and :mod:`workbench.io.report_html` write it.  No Qt.
"""

from workbench.core.report import sections_more  # noqa: F401 - registers its sections
from workbench.core.report.build import build_report, open_inputs, plan, reuse_key
from workbench.core.report.document import Report, ReportInput, ReportOptions, Section
from workbench.core.report.sections import (
    DEFAULT_SECTIONS,
    SECTIONS,
    parse_sections,
    section_kind,
    section_names,
)
from workbench.core.report.sections_more import EmbeddingPrior, video_frames

__all__ = ["DEFAULT_SECTIONS", "SECTIONS", "EmbeddingPrior", "Report", "ReportInput",
           "ReportOptions", "Section", "build_report", "open_inputs", "parse_sections", "plan",
           "reuse_key", "section_kind", "section_names", "video_frames"]
