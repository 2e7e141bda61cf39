"""The Model dock's "Score output" picker: a model whose forward returns a dict with two
(N, K) parts lists both, uses ``logits`` first, switches to the other on choice (Predict
shows its classes) and remembers the choice for the next load of that file."""

from __future__ import annotations

import torch
from torch import nn

from tests.ui.conftest import TIMEOUT


class DictHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.aux = nn.Linear(4, 3)
        self.logits = nn.Linear(4, 5)

    def forward(self, x):
        h = self.conv(x).mean((2, 3))
        return {"aux": self.aux(h), "logits": self.logits(h)}


def _load(qtbot, win, path):
    from workbench.core.models.checkpoint import CheckpointOptions

    win.model_dock.load(str(path), options=CheckpointOptions(trust=True, input_size=32))
    qtbot.waitUntil(lambda: win.state.model.name == str(path), timeout=TIMEOUT)
    qtbot.waitUntil(win.is_settled, timeout=TIMEOUT)


def _classes_in_predict(qtbot, win, k):
    panel = win.panels[0]
    qtbot.waitUntil(lambda: panel.prediction is not None and len(panel.prediction.probs) == k,
                    timeout=TIMEOUT)


def test_score_output_is_picked_and_remembered(qtbot, open_window, tmp_path):
    from workbench.ui.output_picker import remembered_output

    path = tmp_path / "heads.pt"
    torch.save(DictHeads(), path)  # a whole pickled model: loaded with trust
    win = open_window()
    picker = win.model_dock.output_picker
    assert picker.isHidden()  # the built-in model has one tensor output
    _load(qtbot, win, path)
    combo = picker.combo
    assert not picker.isHidden()
    assert [combo.itemData(i) for i in range(combo.count())] == ["aux", "logits"]
    assert "5" in combo.currentText() and combo.currentData() == "logits"
    _classes_in_predict(qtbot, win, 5)

    combo.setCurrentIndex(combo.findData("aux"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: win.state.model.output == "aux", timeout=TIMEOUT)
    assert win.state.model.num_classes == 3 and combo.currentData() == "aux"
    _classes_in_predict(qtbot, win, 3)
    assert remembered_output(str(path)) == "aux"

    again = open_window()  # a new window loading the same file uses aux again
    _load(qtbot, again, path)
    assert again.state.model.output == "aux"
    assert again.model_dock.output_picker.combo.currentData() == "aux"
    _classes_in_predict(qtbot, again, 3)
