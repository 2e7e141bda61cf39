"""Workbench: an interpretability workbench for PyTorch vision models."""

import os

# Idle OpenMP threads sleep instead of spinning: on a small machine a spinning
# pool steals the core the window needs, and two pools (torch, openTSNE) spinning
# against each other made both many times slower.  Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
