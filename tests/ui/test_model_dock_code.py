"""The Model dock: a trusted pickled model whose class lives in the user's folder asks for
that folder (the checkpoint dialog's Code folder), keeps the trust, and loads."""

from __future__ import annotations

import sys

from tests.helpers import pickle_from_code
from tests.ui.test_main_window import TIMEOUT, wait_for_prediction, window  # noqa: F401

NETS = """
    from torch import nn

    class DockNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.fc = nn.Linear(4, 5)

        def forward(self, x):
            return self.fc(self.conv(x).mean((2, 3)))
"""


def test_trusted_pickle_asks_for_its_code_folder(qtbot, window, tmp_path, monkeypatch):  # noqa: F811
    wait_for_prediction(qtbot, window, "Egyptian cat")  # torch is imported by then

    from workbench.core.models.checkpoint import CheckpointOptions

    code, path = pickle_from_code(tmp_path, monkeypatch, "docknets_wb_test", NETS, "DockNet")
    dock = window.model_dock
    asked = []
    dock.ask = lambda title, text, buttons: "I trust this file"
    dock.pick_checkpoint = lambda spec, reason: asked.append(reason) or CheckpointOptions(
        code=str(code), input_size=32)
    dock.load(str(path))
    qtbot.waitUntil(lambda: window.state.model.name == str(path), timeout=TIMEOUT)
    assert len(asked) == 1 and "--code" in asked[0]
    assert window.state.model.num_classes == 5
    qtbot.waitUntil(window.is_settled, timeout=TIMEOUT)
    sys.modules.pop("docknets_wb_test", None)
