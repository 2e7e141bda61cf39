"""DESIGN.md §1: workbench.core and workbench.io never import Qt."""

import subprocess
import sys

CHECK = r"""
import importlib, pkgutil, sys
import workbench.core, workbench.io, workbench.cli
for package in (workbench.core, workbench.io):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
from workbench.core.models import load_model
load_model("digits_lenet")
qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph",
                                                          "superqt", "qtpy", "PyQt5", "PyQt6"))
print("QT:" + ",".join(qt))
"""


def test_core_and_io_import_without_qt():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "QT:", out.stdout
