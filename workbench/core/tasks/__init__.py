"""Detection and segmentation (DESIGN.md §11): what a dense model predicts, drawn in the
original image's pixels, and the targets that turn one detection or one region into the
``(N, K)`` scores every method already explains, occludes and attacks."""

from workbench.core.tasks.names import CLASSIFICATION, DETECTION, SEGMENTATION, TASKS

__all__ = ["CLASSIFICATION", "DETECTION", "SEGMENTATION", "TASKS"]
