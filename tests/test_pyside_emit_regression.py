"""PySide6 6.12.0 on CPython 3.11 aborts after ~100 000 Signal.emit() calls
("Fatal Python error: bool_dealloc").  The pin pyside6<6.12 on Python < 3.12
avoids it; this emits 200 000 signals in a subprocess to prove it."""

import subprocess
import sys

SCRIPT = r"""
import os
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QObject, Signal, QCoreApplication
app = QCoreApplication([])
class Emitter(QObject):
    ping = Signal(int, float, str)
    flag = Signal(bool)
e = Emitter()
count = [0]
e.ping.connect(lambda i, f, s: count.__setitem__(0, count[0] + 1))
e.flag.connect(lambda b: None)
for i in range(200_000):
    e.ping.emit(i, 0.5, "x")
    e.flag.emit(True)
print("emitted", count[0])
"""


def test_two_hundred_thousand_emits_do_not_crash():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "emitted 200000" in out.stdout
