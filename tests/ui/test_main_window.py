"""The main window driven as a user would: open, predict, switch model, bad files, export."""

import pytest
from PIL import Image

from workbench.io.samples import sample_path

TIMEOUT = 60_000


@pytest.fixture
def window(qtbot):
    from workbench.ui.main_window import MainWindow

    win = MainWindow(files=[str(sample_path("chelsea"))], restore=False)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    assert not win.runner.thread().isRunning()
    assert not win.io_runner.thread().isRunning()


def wait_for_prediction(qtbot, win, label):
    panel = win.panels[0]
    qtbot.waitUntil(lambda: panel.prediction is not None and
                    panel.prediction.best.label == label, timeout=TIMEOUT)
    qtbot.waitUntil(win.is_settled, timeout=TIMEOUT)


def test_predict_tab_shows_top1(qtbot, window):
    wait_for_prediction(qtbot, window, "Egyptian cat")
    panel = window.panels[0]
    assert panel.headline.text().startswith("Egyptian cat")
    assert len(panel.prediction.top) == 5
    assert window.state.model.name == "efficientnet_lite0"
    assert window.model_dock.tree.topLevelItemCount() > 5
    assert window.tabs.tabText(window.tabs.currentIndex()) == "Predict"


def test_topk_and_image_changes_update_the_prediction(qtbot, window):
    wait_for_prediction(qtbot, window, "Egyptian cat")
    window.panels[0].topk.setValue(3)
    qtbot.waitUntil(lambda: len(window.panels[0].prediction.top) == 3, timeout=TIMEOUT)
    window.inputs.add_paths([sample_path("coffee")], select=True)
    wait_for_prediction(qtbot, window, "espresso")
    assert window.inputs.list.count() == 2


def test_switch_model_and_layer(qtbot, window):
    wait_for_prediction(qtbot, window, "Egyptian cat")
    dock = window.model_dock
    qtbot.waitUntil(lambda: dock.model_combo.findData("resnet18") >= 0, timeout=TIMEOUT)
    window.open_digit_samples()
    qtbot.waitUntil(lambda: window.inputs.list.count() == 11, timeout=TIMEOUT)
    dock.model_combo.setCurrentIndex(dock.model_combo.findData("digits_lenet"))
    dock.model_combo.activated.emit(dock.model_combo.currentIndex())
    qtbot.waitUntil(lambda: window.state.model.name == "digits_lenet", timeout=TIMEOUT)
    window.inputs.list.setCurrentRow(1 + 7)  # "digit 7"
    wait_for_prediction(qtbot, window, "7")
    attribution, featviz = window.panel("Attribution"), window.panel("Feature visualization")
    assert attribution.current_layer() == "relu2"
    window.tabs.setCurrentWidget(attribution)
    conv1 = dock.tree.topLevelItem(0)
    dock.tree.setCurrentItem(conv1)  # the dock's choice goes to the tab in front, only
    assert attribution.current_layer() == "conv1" and featviz.current_layer() == "relu2"
    qtbot.waitUntil(window.is_settled, timeout=TIMEOUT)


def test_uncached_weights_ask_and_fall_back_to_random(qtbot, window, tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    wait_for_prediction(qtbot, window, "Egyptian cat")
    questions = []
    window.model_dock.ask = lambda title, text, buttons: questions.append(text) or "Random weights"
    window.model_dock.load("resnet18")
    qtbot.waitUntil(lambda: window.state.model.name == "resnet18:random", timeout=TIMEOUT)
    assert "resnet18-" in questions[0]


def test_bad_files_are_reported_and_nothing_is_lost(qtbot, window, tmp_path):
    wait_for_prediction(qtbot, window, "Egyptian cat")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "text.png"
    text.write_text("hello")
    window.inputs.add_paths([empty, text])
    qtbot.waitUntil(window.is_settled, timeout=TIMEOUT)
    errors = [m for _, m, is_error in window.status.messages if is_error]
    assert any("empty.png" in m and "empty" in m for m in errors)
    assert any("text.png" in m and "not an image" in m for m in errors)
    assert window.inputs.list.count() == 1
    assert window.panels[0].prediction.best.label == "Egyptian cat"


def test_export_view_writes_png_with_caption(qtbot, window, tmp_path):
    wait_for_prediction(qtbot, window, "Egyptian cat")
    out = tmp_path / "view.png"
    window.export_view(str(out))
    image = Image.open(out)
    assert "Egyptian cat" in image.text["Caption"]
    assert image.width >= 2 * window.tabs.currentWidget().width() - 2


def test_settings_persist_between_runs(qtbot, tmp_path, monkeypatch):
    from workbench.ui.main_window import MainWindow

    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path))
    first = MainWindow(files=[str(sample_path("chelsea"))])
    qtbot.addWidget(first)
    first.panels[0].topk.setValue(7)
    first.dark_action.setChecked(True)
    first.close()
    second = MainWindow(files=[str(sample_path("chelsea"))])
    qtbot.addWidget(second)
    assert second.panels[0].topk.value() == 7
    assert second.dark_action.isChecked()
    second.close()


def test_a_window_that_did_not_restore_settings_does_not_save_them(qtbot, tmp_path,
                                                                   monkeypatch):
    from workbench.ui.main_window import MainWindow

    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path))
    throwaway = MainWindow(files=[str(sample_path("chelsea"))], restore=False)  # screenshot
    qtbot.addWidget(throwaway)
    throwaway.tabs.setCurrentIndex(4)
    throwaway.close()
    assert not (tmp_path / "workbench.ini").exists() or "tab" not in (
        tmp_path / "workbench.ini").read_text()


def test_cancel_button_cancels_the_running_job(qtbot, window):

    from tests.helpers import endless_job

    wait_for_prediction(qtbot, window, "Egyptian cat")
    slow, started = endless_job()
    cancelled = []
    window.runner.submit(slow, name="Slow job", on_cancelled=lambda: cancelled.append(1))
    assert started.wait(5)
    qtbot.waitUntil(lambda: window.status.cancel_button.isVisible(), timeout=TIMEOUT)
    window.status.cancel_button.click()
    qtbot.waitUntil(lambda: cancelled == [1], timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not window.status.cancel_button.isVisible(), timeout=TIMEOUT)


def test_checkpoint_flows_ask_for_trust_and_architecture(qtbot, window, tmp_path):
    import torch
    from torch import nn
    from torchvision.models import resnet18

    from workbench.core.models.checkpoint import CheckpointOptions

    wait_for_prediction(qtbot, window, "Egyptian cat")
    dock = window.model_dock
    whole = tmp_path / "whole.pt"
    torch.save(nn.Sequential(nn.Conv2d(3, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(2, 4)), whole)
    answers = []
    dock.ask = lambda title, text, buttons: answers.append(title) or "Cancel"
    dock.load(str(whole))
    qtbot.waitUntil(lambda: answers == ["Trust this file?"], timeout=TIMEOUT)
    qtbot.waitUntil(window.is_settled, timeout=TIMEOUT)
    assert window.state.model.name == "efficientnet_lite0"  # refused: nothing changed
    dock.ask = lambda title, text, buttons: "I trust this file"
    dock.load(str(whole))
    qtbot.waitUntil(lambda: window.state.model.name == str(whole), timeout=TIMEOUT)
    assert window.state.model.num_classes == 4

    weights = tmp_path / "weights.pth"
    torch.save(resnet18(num_classes=3).state_dict(), weights)
    dock.pick_checkpoint = lambda path, reason: CheckpointOptions(arch="resnet18")
    dock.load(str(weights))
    qtbot.waitUntil(lambda: window.state.model.name == str(weights), timeout=TIMEOUT)
    assert window.state.model.labels == ["class 0", "class 1", "class 2"]
    qtbot.waitUntil(window.is_settled, timeout=TIMEOUT)
    assert window.panels[0].prediction.best.label.startswith("class ")


def test_opening_a_folder_again_adds_nothing_twice(qtbot, window, tmp_path):
    import shutil

    wait_for_prediction(qtbot, window, "Egyptian cat")
    for name in ("coffee", "rocket"):
        shutil.copy(sample_path(name), tmp_path / f"{name}.png")
    window.inputs.add_paths([tmp_path / "coffee.png"])
    qtbot.waitUntil(lambda: window.inputs.list.count() == 2, timeout=TIMEOUT)
    window.inputs.add_paths([tmp_path])
    qtbot.waitUntil(window.is_settled, timeout=TIMEOUT)
    assert window.inputs.list.count() == 3  # chelsea, coffee (once), rocket
    window.inputs.add_paths([tmp_path])
    qtbot.waitUntil(window.is_settled, timeout=TIMEOUT)
    assert window.inputs.list.count() == 3


def test_an_error_clears_on_the_next_success_and_stays_in_the_log(qtbot, window, monkeypatch):
    from workbench.ui import status

    wait_for_prediction(qtbot, window, "Egyptian cat")
    monkeypatch.setattr(status, "ERROR_READ_SECONDS", 0)
    window.state.error("something went wrong")
    assert window.status.showing_error and window.status.message.text() == "something went wrong"
    window.panels[0].topk.setValue(3)  # a new prediction succeeds
    qtbot.waitUntil(lambda: not window.status.showing_error, timeout=TIMEOUT)
    assert any(text == "something went wrong" and error
               for _, text, error in window.status.messages)
    from PySide6.QtWidgets import QListWidget

    dialog = window.status.show_log()
    entries = dialog.findChild(QListWidget)
    assert any("error: something went wrong" in entries.item(i).text()
               for i in range(entries.count()))
    dialog.close()


def test_every_button_and_slider_says_what_it_does(qtbot, window):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QScrollBar, QTabBar

    wait_for_prediction(qtbot, window, "Egyptian cat")
    buttons = [b for b in window.findChildren(QAbstractButton)
               if b.text() and not isinstance(b.parentWidget(), QTabBar)]
    sliders = [s for s in window.findChildren(QAbstractSlider) if not isinstance(s, QScrollBar)]
    assert len(buttons) > 40 and len(sliders) >= 5
    silent = [b.text() for b in buttons if not b.toolTip()]
    silent += [type(s).__name__ for s in sliders
               if not s.toolTip() and not s.parentWidget().toolTip()]
    assert not silent, silent
    for title in ("Attribution", "Occlusion", "Embeddings"):  # Run / Stop / Export keys
        tips = " ".join(b.toolTip() for b in window.panel(title).findChildren(QAbstractButton))
        assert "Ctrl+Return" in tips and "Esc" in tips and "Ctrl+Shift+E" in tips
