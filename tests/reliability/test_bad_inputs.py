"""Every hostile input, through the GUI and the CLI: one clear line naming the file,
the app keeps what it had open, the CLI exits non-zero without a traceback."""

import warnings

import pytest

from tests.reliability.corpus import bad_checkpoints, bad_images, nan_model, odd_images
from workbench.io.samples import sample_path

TIMEOUT = 60_000


class Result:
    def __init__(self, returncode, stderr):
        self.returncode, self.stderr = returncode, stderr


@pytest.fixture
def cli(capsys):
    """Run ``workbench`` in-process (the same code path as the console script)."""
    from workbench.cli import main

    def run(*args):
        code = main([str(a) for a in args])
        return Result(code, capsys.readouterr().err)

    return run


def one_line(out):
    lines = out.stderr.strip().splitlines()
    return len(lines) == 1 and "Traceback" not in out.stderr, out.stderr


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {"bad": bad_images(folder / "bad"), "odd": odd_images(folder / "odd"),
                "checkpoints": bad_checkpoints(folder / "ckpt"), "nan": nan_model(folder),
                "folder": folder}


def test_bad_images_through_the_cli(cli, corpus):
    for path, fragment in corpus["bad"]:
        out = cli("predict", path, "--model", "digits_lenet")
        assert out.returncode == 1, (path, out.stderr)
        assert one_line(out)[0], out.stderr
        assert path.name in out.stderr and fragment in out.stderr, out.stderr
    out = cli("predict", corpus["folder"], "--model", "digits_lenet")
    assert out.returncode == 1 and "folder" in out.stderr and one_line(out)[0]


def test_odd_images_open_through_the_cli(cli, corpus):
    for path in corpus["odd"]:
        out = cli("predict", path, "--model", "digits_lenet", "--json")
        assert out.returncode == 0, (path, out.stderr)


def test_bad_checkpoints_through_the_cli(cli, corpus):
    for path, fragment, options in corpus["checkpoints"]:
        flags = [f"--{k.replace('_', '-')}={v}" for k, v in options.items()]
        out = cli("predict", sample_path("coffee"), "--model", path, *flags)
        assert out.returncode == 1, out.stderr
        assert one_line(out)[0] and fragment in out.stderr and path.name in out.stderr
    assert not (corpus["folder"] / "ckpt" / "pwned").exists()
    out = cli("predict", sample_path("coffee"), "--model", corpus["nan"])
    assert out.returncode == 1 and "NaN" in out.stderr and one_line(out)[0]


@pytest.fixture
def window(qtbot):
    from workbench.ui.main_window import MainWindow

    win = MainWindow(files=[str(sample_path("chelsea"))], restore=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.panels[0].prediction is not None, timeout=TIMEOUT)
    qtbot.waitUntil(win.is_settled, timeout=TIMEOUT)
    yield win
    win.close()


def errors(win):
    return [text for _, text, is_error in win.status.messages if is_error]


def test_bad_and_odd_images_through_the_gui(qtbot, window, corpus):
    bad = [path for path, _ in corpus["bad"]]
    window.inputs.add_paths(bad + corpus["odd"])
    qtbot.waitUntil(window.is_settled, timeout=TIMEOUT)
    for path, fragment in corpus["bad"]:
        assert any(path.name in m and fragment in m and "\n" not in m for m in errors(window)), \
            (path, errors(window))
    assert window.inputs.list.count() == 1 + len(corpus["odd"])
    assert window.state.image_name == "chelsea.png"
    assert window.panels[0].prediction.best.label == "Egyptian cat"
    for row in range(1, window.inputs.list.count()):  # every odd file opens and predicts
        window.inputs.list.setCurrentRow(row)
        qtbot.waitUntil(window.is_settled, timeout=TIMEOUT)
    assert not [m for m in errors(window) if "odd" in m]


def test_bad_checkpoints_through_the_gui(qtbot, window, corpus):
    from workbench.core.models.checkpoint import CheckpointOptions

    dock = window.model_dock
    dock.ask = lambda title, text, buttons: "Cancel"
    for path, fragment, options in corpus["checkpoints"]:
        dock.load(str(path), options=CheckpointOptions(**options) if options else None)
        qtbot.waitUntil(window.is_settled, timeout=TIMEOUT)
        if fragment != "run code":  # the evil pickle asks first; Cancel refuses it
            assert any(path.name in m and fragment in m for m in errors(window)), errors(window)
        assert window.state.model.name == "efficientnet_lite0"
    assert not (corpus["folder"] / "ckpt" / "pwned").exists()
    dock.load(str(corpus["nan"]))
    qtbot.waitUntil(lambda: window.state.model.name.endswith("nan.ts"), timeout=TIMEOUT)
    qtbot.waitUntil(window.is_settled, timeout=TIMEOUT)
    assert any("NaN" in m for m in errors(window))


def hostile_videos(folder):
    """Bad video files, each with the words its one-line message must hold."""
    from tests.io.video_corpus import make_audio_only, make_empty_video, make_video

    folder.mkdir(exist_ok=True)
    empty = folder / "empty.mp4"
    empty.write_bytes(b"")
    text = folder / "notes.mkv"
    text.write_text("not a video at all")
    whole = make_video(folder / "whole.mp4", frames=30)
    cut = folder / "cut.mp4"  # an MP4 cut short loses its index: nothing to read
    cut.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 2])
    return [(empty, "empty"), (text, "not a video"), (make_audio_only(folder / "sound.mkv"),
                                                      "no video stream"),
            (make_empty_video(folder / "nothing.mkv"), "no frames"), (cut, "cut.mp4")]


def test_hostile_videos_through_the_gui(qtbot, window, tmp_path):
    videos = hostile_videos(tmp_path / "videos")
    window.inputs.add_paths([path for path, _ in videos])
    qtbot.waitUntil(window.is_settled, timeout=TIMEOUT)
    for path, fragment in videos:
        assert any(path.name in m and fragment in m and "\n" not in m for m in errors(window)), \
            (path, errors(window))
    assert window.inputs.list.count() == 1  # nothing added, nothing lost
    assert window.panels[0].prediction.best.label == "Egyptian cat"


def test_hostile_videos_through_the_cli(cli, tmp_path):
    for path, fragment in hostile_videos(tmp_path / "videos"):
        out = cli("video", path)
        assert out.returncode == 1 and fragment in out.stderr and one_line(out)[0], out.stderr
