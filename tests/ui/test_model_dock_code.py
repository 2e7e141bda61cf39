"""The Model dock: a trusted pickled model whose class lives in the user's folder asks for
that folder (the checkpoint dialog's Code folder), keeps the trust, and loads."""

from __future__ import annotations

import sys
import textwrap

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
    import torch

    from workbench.core.models.checkpoint import CheckpointOptions

    code = tmp_path / "src"
    code.mkdir()
    (code / "docknets_wb_test.py").write_text(textwrap.dedent(NETS))
    monkeypatch.setattr(sys, "path", [str(code), *sys.path])
    import docknets_wb_test

    path = tmp_path / "whole.pt"
    torch.save(docknets_wb_test.DockNet(), path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(code)])
    monkeypatch.delitem(sys.modules, "docknets_wb_test")
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
