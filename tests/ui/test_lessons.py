"""Every lesson opened from the Lessons menu in a fresh window, with its result checked
(steps and epochs shortened through the lessons' own parameters)."""

import numpy as np
import pytest

from workbench.ui.lessons.catalogue import LESSONS, lesson

TIMEOUT = 120_000
SHORTER = {"video": {"every": 25}, "sweep": {"window": 56, "stride": 28},
           "tsne": {"iterations": 100}, "autoencoder": {"epochs": 3},
           "featviz": {"steps": 6, "dream_steps": 4},
           "neighbours": {"k": 8}}


@pytest.fixture
def run_lesson(qtbot, open_window, monkeypatch):
    """``run_lesson(key)`` → the window after Lessons → that lesson, settled."""

    def run(key: str, done=None):
        for name, value in SHORTER.get(key, {}).items():
            monkeypatch.setitem(lesson(key).params, name, value)
        win = open_window()
        action = next(a for a in win.lessons_menu.actions()
                      if a.text().lstrip("&").startswith(f"{lesson(key).number}. "))
        action.trigger()
        dock = win.lessons.dock
        assert dock.isVisible() and lesson(key).title in dock.title.text()
        assert "href=" in dock.links.text()
        if done is not None:
            qtbot.waitUntil(done(win), timeout=TIMEOUT)
        qtbot.waitUntil(lambda: "setting up" not in dock.result.text() and win.is_settled(),
                        timeout=TIMEOUT)
        return win

    return run


def test_the_menu_sits_between_view_and_help_with_every_lesson(open_window):
    win = open_window()
    titles = [a.text().replace("&", "") for a in win.menuBar().actions()]
    assert titles.index("View") + 1 == titles.index("Lessons") < titles.index("Help")
    entries = [a for a in win.lessons_menu.actions() if not a.isSeparator()]
    assert len(entries) == len(LESSONS) + 1  # and the dock's toggle
    assert all(len(item.text.split(". ")) <= 4 and item.links for item in LESSONS)


def test_video_frame_by_frame_and_the_mean(run_lesson):
    win = run_lesson("video")
    video = win.panel("Video")
    assert win.tabs.currentWidget() is video and video.path.endswith("bikes.mp4")
    assert video.predictions.done == len(video.predictions.indices) >= 10
    assert len(video.timeline.curves) == 5 and "/ " in video.formula.text()
    np.testing.assert_allclose(video.video_probs, video.predictions.probs.mean(0), atol=1e-5)


def test_motion_models_compared(run_lesson):
    win = run_lesson("motion", lambda w: lambda: w.lessons.outcome is not None)
    rows = {r.name: r for r in win.lessons.outcome}
    assert rows["motion_3d"].top1 == ["right", "right", "down", "down", "left", "left",
                                      "up", "up"]
    assert rows["motion_3d"].accuracy == 1.0 and rows["motion_frame"].accuracy <= 0.5
    assert "motion_lstm" in win.lessons.dock.result.text()


def test_occlusion_of_the_face_lowers_the_cat(run_lesson):
    win = run_lesson("occlusion")
    panel = win.panel("Occlusion")
    masked = panel.masked
    top = int(np.argmax(masked.base_probs))
    assert panel.canvas.mask.mean() > 0.2 and masked.probs[top] < masked.base_probs[top] - 0.1
    assert "→" in win.lessons.dock.result.text()


def test_sliding_window_fills_the_grid(run_lesson):
    win = run_lesson("sweep")
    sweep = win.panel("Occlusion").sweep
    assert sweep.top_class.shape == (7, 7) and (sweep.top_class >= 0).all()
    assert np.isfinite(sweep.target_prob).all()


def test_two_classes_give_two_maps(run_lesson):
    win = run_lesson("two-classes")
    first, second = win.panel("Attribution").classes.results
    assert (first.label, second.label) == ("Egyptian cat", "tiger cat")
    assert not np.allclose(first.heat, second.heat)


def test_neighbours_of_a_digit(run_lesson):
    win = run_lesson("neighbours")
    panel = win.panel("Embeddings")
    _title, indices, _distances = panel.neighbours
    assert len(indices) == 8 and panel.gallery.count() == 8
    assert (panel.map_data.labels[indices] == 0).mean() >= 0.75


def test_tsne_coloured_by_ten_classes(run_lesson):
    win = run_lesson("tsne")
    panel = win.panel("Embeddings")
    assert panel.map_data.coords.shape == (1797, 2) and len(panel.map.groups) == 10
    assert "t-SNE" in win.lessons.dock.result.text()


def test_autoencoder_map(run_lesson):
    win = run_lesson("autoencoder")
    panel = win.panel("Embeddings")
    assert panel.map_data.coords.shape == (1797, 2) and np.isfinite(panel.map_data.coords).all()
    assert panel.method.currentData() == "autoencoder"


def test_feature_visualization_then_deepdream(qtbot, run_lesson):
    win = run_lesson("featviz")
    panel, lessons = win.panel("Feature visualization"), win.lessons
    channel = lessons.outcome
    assert panel.channel.value() == 5 and panel.snapshot.step == 6
    assert channel.std() > 0.01
    lessons.dock.buttons[0].click()  # DeepDream on the photo
    qtbot.waitUntil(lambda: "amplified" in lessons.dock.result.text() and win.is_settled(),
                    timeout=TIMEOUT)
    dream = lessons.outcome
    assert panel.kind.currentText() == "deepdream" and dream.shape == channel.shape
    assert np.abs(dream - channel).mean() > 0.05


def test_fgsm_flips_the_top1_with_both_confidences(run_lesson):
    win = run_lesson("fgsm")
    view = win.panel("Adversarial").result
    assert view.method == "fgsm" and view.success
    assert view.before[0].label == "espresso" and view.after[0].label != "espresso"
    assert view.linf * 255 == pytest.approx(2, abs=0.01)
    text = win.lessons.dock.result.text()
    assert f"{view.before[0].prob:.1%}" in text and f"{view.after[0].prob:.1%}" in text


def test_shipped_patch_says_toaster_on_most_samples(run_lesson):
    win = run_lesson("patch", lambda w: lambda: w.lessons.outcome is not None)
    panel, transfer = win.panel("Adversarial"), win.lessons.outcome
    assert panel.patched is not None and panel.patched[1][0].label == "toaster"
    assert sum(r >= 0.5 for r in transfer.per_image) > len(transfer.names) / 2
    assert transfer.rate > 0.5 and "toaster" in win.lessons.dock.result.text()
    assert win.lessons.dock.buttons[0].text() == "Train a new patch"


def test_conv_quiz_answer_is_the_formula(run_lesson):
    from workbench.core.inspect.conv import output_size

    win = run_lesson("conv-quiz")
    page = win.panel("Inspector").conv
    assert win.panel("Inspector").pages.currentWidget() is page
    quiz = page.quiz
    assert "32×32×3" in quiz.question.text() and not quiz.answer.isVisible()
    quiz.reveal_button.click()
    side = (32 - 5 + 2 * 2) // 1 + 1
    assert output_size(32, 5, 1, 2, 1) == side == 32
    assert page.answer.output == (side, side, 10) and page.answer.params == 5 * 5 * 3 * 10 + 10
    assert quiz.answer.isVisible() and "32×32×10" in quiz.answer.text()
    assert "760" in quiz.answer.text()
