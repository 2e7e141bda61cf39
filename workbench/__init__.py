"""Workbench: an interpretability workbench for PyTorch vision models."""

import os

# Idle OpenMP threads sleep instead of spinning: on a small machine a spinning
# pool steals the core the window needs, and two pools (torch, openTSNE) spinning
# against each other made both many times slower.  Must be set before torch loads.
# The price, measured on the 2-core machine: with the machine otherwise idle a ResNet-18
# forward + backward at batch 1 took 88–101 ms passive, 74–79 ms with libgomp's default
# and 65 ms with GOMP_SPINCOUNT=10000; with one busy process beside it, 152 ms passive
# against 244–250 ms spinning.  Passive wins where it hurts most (a loaded machine).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
