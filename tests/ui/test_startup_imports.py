"""The window must appear before torch is imported (issue 2: visible within 2 s)."""

import subprocess
import sys

CHECK = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
import workbench.cli
from workbench.ui.app import make_application
app = make_application()
from workbench.ui.main_window import MainWindow
window = MainWindow(restore=False)  # built, not yet running its startup jobs
print("LOADED:" + ",".join(m for m in ("torch", "torchvision", "sklearn", "skimage")
                          if m in sys.modules))
window.close()
"""


def test_building_the_window_does_not_import_torch(tmp_path):
    import os

    env = {**os.environ, "WORKBENCH_CONFIG_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert "LOADED:\n" in out.stdout, out.stdout
