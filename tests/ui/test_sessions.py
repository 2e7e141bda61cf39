"""Sessions: save a window with results on several tabs (and their inner pages) and reopen
it without recomputing; a video's timeline, maps and position; in-memory inputs in their
order; missing inputs and models said per item; the autosave timer; restoring after
kill -9."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from tests.ui.session_results import (
    TIMEOUT,
    check_inner_pages,
    compute_results,
    pages_screenshots,
    show_tab,
)
from workbench.io.samples import sample_path

RESULT_KEYS = {"attribution", "occlusion-sweep", "attack", "attack-cams", "embedding",
               "featviz", "embedding-predictions", "attribution-grid",
               "attribution-pair-classes", "attribution-pair-images", "attack-sweep", "patch",
               "patch-read", "patch-apply", "featviz-examples", "featviz-read",
               "video-predictions", "video-maps"}


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "chelsea.png"
    shutil.copy(sample_path("chelsea"), path)
    return path


def _window(qtbot, **kw):
    from workbench.ui.main_window import MainWindow

    win = MainWindow(**kw)
    qtbot.addWidget(win)
    win.resize(1300, 850)
    return win


def _spy(win) -> list:
    """Every job key (or name) the window's model runner is given from now on."""
    seen, submit = [], win.runner.submit

    def spy(fn, **kw):
        seen.append(kw.get("key") or kw.get("name"))
        return submit(fn, **kw)

    win.runner.submit = spy
    return seen


def _restored(qtbot, win):
    qtbot.waitUntil(lambda: win.started and win.sessions.pending is None and win.is_settled(),
                    timeout=TIMEOUT)


def test_reopened_session_shows_the_same_results_without_recomputing(
        qtbot, tmp_path, photo, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    win = _window(qtbot, files=[str(photo)], model="digits_lenet", restore=False)
    win.show()
    qtbot.waitUntil(lambda: win.state.image is not None and win.is_settled(), timeout=TIMEOUT)
    att, occ, adv, emb, fv = compute_results(qtbot, win)
    path = win.sessions.save(str(tmp_path / "lesson.wbsession"))
    assert path and win.sessions.recent()[0] == str((tmp_path / "lesson.wbsession").resolve())
    win.close()

    again = _window(qtbot, restore=False, session=path)
    seen = _spy(again)
    again.show()
    _restored(qtbot, again)
    assert again.sessions.last_problems == []
    assert again.state.model.name == "digits_lenet" and again.state.image_path == str(photo)
    assert again.current_panel().title == "Attribution"
    for title in ("Attribution", "Occlusion", "Adversarial", "Embeddings",
                  "Feature visualization", "Attribution"):
        _screenshot(show_tab(qtbot, again, title).window(), f"restored-{title.lower()}.png")
    pages_screenshots(qtbot, again, _screenshot)
    assert not RESULT_KEYS & set(seen), seen  # nothing was computed again

    att2 = again.panel("Attribution")
    assert att2.result.target == 5 and att2.result.method == att.result.method
    np.testing.assert_array_equal(att2.view.heat, att.result.heat)
    assert att2.view.overlay.image is not None and "class 5" in att2.view.title.text()
    assert att2.display.opacity.value() == pytest.approx(0.8)
    assert att2.targets.top_list.count() == att.targets.top_list.count()
    occ2 = again.panel("Occlusion")
    np.testing.assert_array_equal(occ2.canvas.mask, occ.canvas.mask)
    assert occ2.fill.value() == "black" and occ2.modes.currentIndex() == 1
    assert occ2.sweep_form.values()["window"] == 8
    np.testing.assert_array_equal(occ2.sweep.target_prob, occ.sweep.target_prob)
    assert occ2.drop_view.heat is not None and occ2.class_view.overlay.image is not None
    adv2 = again.panel("Adversarial")
    assert adv2.method.currentData() == "fgsm"
    assert adv2.form.values()["eps"] == pytest.approx(12 / 255)
    np.testing.assert_array_equal(adv2.result.adversarial, adv.result.adversarial)
    assert adv2.adversarial_view.image is not None and adv2.cam_views[1].heat is not None
    assert adv2.verdict.text() == adv.verdict.text()
    check_inner_pages(again, att, adv, fv)
    emb2 = again.panel("Embeddings")
    np.testing.assert_array_equal(emb2.map_data.coords, emb.map_data.coords)
    assert emb2.map_data.names == emb.map_data.names and len(emb2.map.coords) == 1797
    assert emb2.legend.entries and "PCA" in emb2.status.text()
    emb2.neighbours_of_point(0)  # neighbours work from the saved features
    qtbot.waitUntil(lambda: emb2.neighbours is not None, timeout=TIMEOUT)
    att2.targets.choose(2)  # the user changes something: now it recomputes
    qtbot.waitUntil(lambda: att2.result.target == 2, timeout=TIMEOUT)
    assert "attribution" in seen
    _screenshot(again, "restored.png")


def _screenshot(widget, name: str) -> None:
    """``$WORKBENCH_SHOTS/name`` when set, to look at what the tests built."""
    folder = os.environ.get("WORKBENCH_SHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        widget.grab().save(os.path.join(folder, name))


def test_missing_input_and_unavailable_model_are_said_per_item(qtbot, tmp_path, photo):
    from workbench.io.session import new_manifest, write_session

    gone = tmp_path / "gone.png"
    manifest = new_manifest(
        window={"tab": "Attribution"},
        inputs=[{"path": str(gone), "name": "gone.png"},
                {"path": str(photo), "name": "chelsea.png", "current": True}],
        model={"spec": "no_such_model_here", "device": "cpu"},
        tabs={"Attribution": {"method": "gradcam", "layer": "conv9", "target": 3},
              "Predict": {"topk": 7}})
    path = write_session(tmp_path / "odd.wbsession", manifest,
                         {"Attribution/heat": np.zeros((4, 4), np.float32)})
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("arrays/Attribution/broken.npy", b"garbage")
    win = _window(qtbot, restore=False, session=str(path))
    win.show()
    _restored(qtbot, win)
    problems = win.sessions.last_problems
    assert any("gone.png" in p and "missing" in p for p in problems), problems
    assert any("no_such_model_here" in p and "not available" in p for p in problems), problems
    assert any("broken" in p for p in problems), problems
    assert win.state.model is not None and win.state.image_path == str(photo)
    assert win.panel("Predict").topk.value() == 7  # the rest opened
    assert win.current_panel().title == "Attribution"
    box = win.sessions.problems_box
    assert box is not None and "gone.png" in box.informativeText()
    log = [text for _t, text, error in win.status.messages if error]
    assert any("gone.png" in text for text in log)
    _screenshot(box, "problems.png")
    _screenshot(win, "problems-window.png")


def test_a_corrupt_session_says_so_and_the_window_still_opens(qtbot, tmp_path):
    bad = tmp_path / "bad.wbsession"
    bad.write_bytes(b"this is no zip")
    win = _window(qtbot, restore=False, session=str(bad), model="digits_lenet")
    win.show()
    qtbot.waitUntil(lambda: win.state.image is not None and win.is_settled(), timeout=TIMEOUT)
    assert "not a Workbench session" in win.sessions.last_problems[0]
    assert win.state.model.name == "digits_lenet"


def test_autosave_on_a_timer_only_when_something_changed(qtbot, tmp_path, photo, monkeypatch):
    from workbench.io.session import read_session
    from workbench.ui import sessions

    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "config"))
    win = _window(qtbot, files=[str(photo)], model="digits_lenet", restore=True)
    win.show()
    qtbot.waitUntil(lambda: win.state.image is not None and win.is_settled(), timeout=TIMEOUT)
    assert sessions.lock_path().read_text().strip() == str(os.getpid())
    win.sessions.set_autosave_interval(0.2)
    qtbot.waitUntil(sessions.autosave_path().is_file, timeout=10_000)
    manifest, _, _ = read_session(sessions.autosave_path())
    assert manifest["model"]["spec"] == "digits_lenet"
    assert [i["path"] for i in manifest["inputs"]] == [str(photo)]
    win.sessions.set_autosave_interval(0)
    assert win.sessions.autosave() is False  # nothing changed
    win.panel("Predict").topk.setValue(3)
    assert win.sessions.autosave() is True
    win.close()
    assert not sessions.lock_path().exists()
    assert read_session(sessions.autosave_path())[0]["tabs"]["Predict"]["topk"] == 3


def test_after_kill_9_the_next_start_offers_to_restore(qtbot, tmp_path, photo, monkeypatch):
    from workbench.io.session import read_session
    from workbench.ui import sessions

    config = tmp_path / "config"
    env = dict(os.environ, WORKBENCH_CONFIG_DIR=str(config), QT_QPA_PLATFORM="offscreen",
               WORKBENCH_AUTOSAVE_S="0.5", WORKBENCH_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.Popen([sys.executable, "-m", "workbench", "gui", str(photo), "--model",
                             "digits_lenet", "--tab", "Occlusion"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    autosave = config / sessions.AUTOSAVE_NAME

    def saved_everything() -> bool:
        try:
            manifest = read_session(autosave)[0]
        except Exception:  # noqa: BLE001 - not written yet
            return False
        return (manifest["model"].get("spec") == "digits_lenet" and manifest["inputs"]
                and manifest["window"].get("tab") == "Occlusion")

    try:
        qtbot.waitUntil(saved_everything, timeout=90_000)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert (config / sessions.LOCK_NAME).is_file()
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(config))
    asked = []
    monkeypatch.setattr(sessions, "ask_restore", lambda window: asked.append(1) or True)
    win = _window(qtbot, restore=True)
    win.show()
    _restored(qtbot, win)
    assert asked == [1]
    assert win.state.model.name == "digits_lenet" and win.state.image_path == str(photo)
    assert win.current_panel().title == "Occlusion"
    win.close()
    assert not (config / sessions.LOCK_NAME).exists()
    monkeypatch.setenv("WORKBENCH_RESTORE", "no")  # a clean close: no question next time
    asked.clear()
    calm = _window(qtbot, restore=True, model="digits_lenet")
    calm.show()
    qtbot.waitUntil(lambda: calm.started, timeout=TIMEOUT)
    assert asked == []
    calm.close()


def test_video_timeline_maps_and_position_come_back_without_running(
        qtbot, tmp_path, monkeypatch):
    from tests.io.video_corpus import make_video

    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    clip = make_video(tmp_path / "clip.mp4", frames=40, size=(160, 96))
    win = _window(qtbot, files=[str(clip)], model="digits_lenet", restore=False)
    win.show()
    video = win.panel("Video")
    qtbot.waitUntil(lambda: video.info is not None and win.is_settled(), timeout=TIMEOUT)
    win.tabs.setCurrentWidget(video)
    video.every.setValue(10)  # a large frame step: frames 0, 10, 20, 30
    video.run_predictions()
    qtbot.waitUntil(lambda: video.status.text().startswith("done"), timeout=TIMEOUT)
    video.run_maps()
    qtbot.waitUntil(lambda: video.maps is not None and video.maps.done == 4
                    and win.is_settled(), timeout=TIMEOUT)
    video.player.seek_index(27)
    qtbot.waitUntil(lambda: video.player.index == 27 and win.is_settled(), timeout=TIMEOUT)
    path = win.sessions.save(str(tmp_path / "video.wbsession"))
    win.close()

    again = _window(qtbot, restore=False, session=path)
    seen = _spy(again)
    again.show()
    _restored(qtbot, again)
    video2 = again.panel("Video")
    qtbot.waitUntil(lambda: video2.player.index == 27 and again.is_settled(), timeout=TIMEOUT)
    assert again.sessions.last_problems == []
    assert again.current_panel() is video2 and video2.path == str(clip)
    assert video2.every.value() == 10
    assert video2.predictions.indices.tolist() == [0, 10, 20, 30]
    np.testing.assert_array_equal(video2.predictions.probs, video.predictions.probs)
    assert len(video2.timeline.curves) == len(video.timeline.curves) > 0
    assert video2.video_top.text() == video.video_top.text()
    assert abs(video2.timeline.cursor.value() - video.timeline.cursor.value()) < 1e-6
    assert "Frame 20" in video2.now.text()
    np.testing.assert_array_equal(video2.maps.maps, video.maps.maps)
    assert video2.player.model_view.heat is not None and "frame 20" in \
        video2.player.model_view.title.text()
    assert video2.status.text().startswith("restored")
    assert not RESULT_KEYS & set(seen), seen  # the timeline and maps did not run again
    _screenshot(again, "restored-video.png")


def _input_names(win) -> list[str]:
    from workbench.ui.inputs_dock import ID_ROLE

    dock = win.inputs
    return [dock.records[dock.list.item(row).data(ID_ROLE)].name
            for row in range(dock.list.count())]


def test_in_memory_inputs_keep_their_order_and_open_no_default_photo(qtbot, tmp_path, photo):
    win = _window(qtbot, files=[str(photo)], model="digits_lenet", restore=False)
    win.show()
    qtbot.waitUntil(lambda: win.state.image is not None and win.is_settled(), timeout=TIMEOUT)
    win.open_digit_samples()  # File → Samples → Digits: ten images held in memory
    qtbot.waitUntil(lambda: win.inputs.list.count() == 11 and win.is_settled(),
                    timeout=TIMEOUT)
    win.inputs.select(win.inputs.list.item(4).data(_id_role()))  # digit 3 in front
    qtbot.waitUntil(lambda: win.state.image_name == "digit 3" and win.is_settled(),
                    timeout=TIMEOUT)
    names = _input_names(win)
    assert names == ["chelsea.png"] + [f"digit {d}" for d in range(10)]
    mixed = win.sessions.save(str(tmp_path / "mixed.wbsession"))
    win.inputs.list.setCurrentRow(0)
    win.inputs.remove_selected()  # only the digits are left
    win.inputs.select(win.inputs.list.item(3).data(_id_role()))
    qtbot.waitUntil(lambda: win.state.image_name == "digit 3" and win.is_settled(),
                    timeout=TIMEOUT)
    digits = win.sessions.save(str(tmp_path / "digits.wbsession"))
    win.close()

    again = _window(qtbot, restore=False, session=mixed)
    again.show()
    _restored(qtbot, again)
    assert _input_names(again) == names and again.state.image_name == "digit 3"
    assert again.inputs.current_record().name == "digit 3"
    assert again.sessions.last_problems == []
    again.close()
    only = _window(qtbot, restore=False, session=digits)
    only.show()
    _restored(qtbot, only)
    qtbot.wait(200)  # a default photo would be opening by now
    assert _input_names(only) == names[1:] and not only.state.image_path
    assert only.state.image_name == "digit 3"


def _id_role():
    from workbench.ui.inputs_dock import ID_ROLE

    return ID_ROLE
