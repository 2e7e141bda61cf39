"""The task names and shared defaults, importable without torch (the window's startup)."""

CLASSIFICATION = "classification"
DETECTION = "detection"
SEGMENTATION = "segmentation"
TASKS = (CLASSIFICATION, DETECTION, SEGMENTATION)
DEFAULT_THRESHOLD = 0.5  # the score at which a detection is shown and counts as found
