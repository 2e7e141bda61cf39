"""Datasets: ImageFolder-style labels, flat folders, opened inputs, video frames, digits."""

import os

import av
import numpy as np
import pytest

from tests.core.embedding.conftest import write_image
from workbench.core.embedding import (
    arrays_dataset,
    digits_dataset,
    extract_features,
    folder_dataset,
    inputs_dataset,
    open_dataset,
    video_dataset,
)
from workbench.errors import WorkbenchError

COLOURS = [(250, 20, 20), (20, 250, 20), (20, 20, 250)]


def write_video(path, frames: int = 24, size=(64, 48), rate: int = 12):
    """A tiny MPEG-4 video whose frame i is a flat colour COLOURS[(i // 8) % 3]."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=rate)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            image = np.zeros((size[1], size[0], 3), np.uint8)
            image[:] = COLOURS[(i // 8) % 3]
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_subfolders_become_labels_and_a_bad_file_is_skipped_and_listed(labelled_folder,
                                                                       tiny_model):
    dataset = folder_dataset(labelled_folder)
    assert dataset.label_names == ["cats", "dogs"]
    by_name = {os.path.relpath(item.name, labelled_folder): item.label for item in dataset.items}
    assert by_name == {"loose.png": -1, "cats/a.png": 0, "cats/nested/b.jpg": 0,
                       "dogs/broken.png": 1, "dogs/c.png": 1}  # notes.txt is not an image
    features = extract_features(tiny_model, dataset, "fc")
    assert features.features.shape == (4, 3)
    assert sorted(os.path.basename(n) for n in features.names) == ["a.png", "b.jpg", "c.png",
                                                                  "loose.png"]
    assert [os.path.basename(p) for p, _ in features.skipped] == ["broken.png"]
    assert "truncated or damaged" in features.skipped[0][1] or "not an image" in \
        features.skipped[0][1]
    labels = dict(zip((os.path.basename(n) for n in features.names), features.labels,
                      strict=True))
    assert labels == {"loose.png": -1, "a.png": 0, "b.jpg": 0, "c.png": 1}


def test_a_flat_folder_has_no_labels(tmp_path):
    for i in range(3):
        write_image(tmp_path / f"{i}.png", i)
    dataset = folder_dataset(tmp_path)
    assert dataset.label_names == [] and set(dataset.labels) == {-1}
    (tmp_path / "empty").mkdir()
    with pytest.raises(WorkbenchError, match="no images"):
        folder_dataset(tmp_path / "empty")


def test_all_unreadable_is_one_clear_error(tmp_path, tiny_model):
    (tmp_path / "x.png").write_bytes(b"junk")
    with pytest.raises(WorkbenchError, match="none of the 1 items could be read"):
        extract_features(tiny_model, folder_dataset(tmp_path))


def test_inputs_mix_paths_and_arrays(tmp_path, tiny_model):
    path = write_image(tmp_path / "a.png", 0)
    rgb = np.random.default_rng(0).random((10, 12, 3)).astype(np.float32)
    dataset = inputs_dataset([path, ("pasted", rgb), ("wrong", np.zeros((4, 4, 2)))])
    features = extract_features(tiny_model, dataset, "fc")
    assert features.names == [str(path), "pasted"]
    assert features.skipped[0][0] == "wrong" and "(H, W, 3)" in features.skipped[0][1]
    same = extract_features(tiny_model, arrays_dataset([("again", rgb)]), "fc")
    np.testing.assert_allclose(same.features[0], features.features[1], rtol=1e-5, atol=1e-6)


def test_video_frames_every_k(tmp_path, tiny_model):
    path = write_video(tmp_path / "clip.mp4")
    dataset = video_dataset(path, every=4)
    assert [item.frame for item in dataset.items] == [0, 4, 8, 12, 16, 20]
    assert dataset.frame_rate == pytest.approx(12)
    frame = dataset.load(2)  # frame 8: green
    assert frame.shape == (48, 64, 3)
    assert np.argmax(frame.reshape(-1, 3).mean(axis=0)) == 1
    features = extract_features(tiny_model, dataset, "relu", workers=2)
    assert features.features.shape == (6, 6) and not features.skipped
    assert features.names[1].endswith("clip.mp4#frame=4")
    assert np.allclose(features.features[0], features.features[1], atol=0.02)  # both red
    assert not np.allclose(features.features[1], features.features[2], atol=0.02)


def test_unreadable_video_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(WorkbenchError, match="Cannot open video .*bad.mp4.*not a video"):
        video_dataset(bad)
    with pytest.raises(WorkbenchError, match="not a folder, a video"):
        open_dataset(tmp_path / "missing")
    assert open_dataset(write_video(tmp_path / "v.mp4"), every=8).kind == "video"


def test_digits_dataset():
    dataset = digits_dataset()
    assert len(dataset) == 1797 and dataset.label_names == [str(d) for d in range(10)]
    assert set(dataset.labels) == set(range(10))
    assert dataset.load(0).shape == (8, 8, 3)


def test_fingerprint_follows_files(tmp_path):
    path = write_image(tmp_path / "a.png", 0)
    dataset = folder_dataset(tmp_path)
    first = dataset.fingerprint()
    assert dataset.fingerprint() == first == folder_dataset(tmp_path).fingerprint()
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert dataset.fingerprint() != first
