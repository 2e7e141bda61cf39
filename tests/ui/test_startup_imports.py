"""The window must appear before torch is imported (issue 2: visible within 2 s)."""

import subprocess
import sys

CHECK = """
import sys
import workbench.ui.main_window, workbench.ui.app, workbench.cli
print(",".join(m for m in ("torch", "torchvision", "sklearn", "skimage") if m in sys.modules))
"""


def test_building_the_window_module_does_not_import_torch():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
