"""Detection and segmentation over a real video's frames: a short clip encoded here with
PyAV (coloured squares moving on black), per-frame results equal to the single-picture
jobs, partial batches, Cancel, track ids, and the annotated MP4 decoded back."""

from pathlib import Path

import av
import numpy as np
import pytest

from tests.core.tasks.toys import toy_detector, toy_segmenter
from workbench.core.jobs import JobContext
from workbench.core.tasks.detection import detect
from workbench.core.tasks.segmentation import segment
from workbench.core.video.dense import dense_frames
from workbench.core.video.dense_export import write_dense_video
from workbench.errors import Cancelled, InputError
from workbench.io.palette import class_colors

SIZE = (64, 96)  # (h, w): twice the toys' 32×48 input, so boxes scale by exactly 2
FRAMES = 24


def square_at(index: int, size=SIZE) -> np.ndarray:
    """Frame ``index``: a red square sweeping right across the top, a green one rising."""
    picture = np.zeros((*size, 3), np.uint8)
    x = 2 + 3 * index
    picture[6:30, x: x + 24, 0] = 255
    y = 40 - index
    picture[max(0, y): y + 20, 52:84, 1] = 255
    return picture


def make_moving_video(path, frames: int = FRAMES, fps: int = 25, size=SIZE) -> Path:
    path = Path(path)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "12"})
        stream.height, stream.width = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = 8
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(square_at(index, size), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def decoded(path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_moving_video(tmp_path_factory.mktemp("dense") / "squares.mp4")


@pytest.fixture(scope="module")
def frames(clip):
    return decoded(clip)


def test_per_frame_detections_equal_detect_frame_by_frame(clip, frames):
    model = toy_detector()
    parts = []
    ctx = JobContext(on_partial=parts.append)
    result = dense_frames(model, clip, range(FRAMES), batch_size=5, ctx=ctx)
    assert sorted(result.frames) == list(range(FRAMES)) and result.done == FRAMES
    assert [sorted(p.frames) for p in parts][:2] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert parts[-1].done == FRAMES and np.isfinite(result.fps) and result.model_fps > 0
    for index in (0, 7, 23):
        one = detect(model, frames[index].astype(np.float32) / 255.0, threshold=0.0)
        got = result.frames[index]
        np.testing.assert_allclose(got.scores, one.scores, atol=1e-5)
        np.testing.assert_array_equal(got.labels, one.labels)
        np.testing.assert_allclose(got.original_boxes(), one.original_boxes(), atol=1e-4)
        assert got.image_size == SIZE
    red_scores = [result.frames[i].scores[result.frames[i].labels == 0][0] for i in range(12)]
    assert red_scores[1] > red_scores[11]  # the red square leaves the first box


def test_known_frames_are_skipped_and_cancel_stops(clip):
    model = toy_detector()
    first = dense_frames(model, clip, range(8))
    again = dense_frames(model, clip, range(12), known=first.frames)
    assert sorted(again.frames) == list(range(8, 12)) and again.done == 12
    ctx = JobContext()
    ctx.cancel()
    with pytest.raises(Cancelled):
        dense_frames(model, clip, range(FRAMES), ctx=ctx)


def test_per_frame_segmentation_equals_segment(clip, frames):
    model = toy_segmenter()
    result = dense_frames(model, clip, [3, 10], batch_size=4)
    for index in (3, 10):
        one = segment(model, frames[index].astype(np.float32) / 255.0)
        got = result.frames[index]
        assert got.original_map.shape == SIZE and got.original_map.dtype == np.uint8
        assert (got.original_map == one.original_map).mean() > 0.999
        np.testing.assert_array_equal(got.class_map, one.class_map)


def test_a_classifier_is_refused(clip):
    from torch import nn

    from workbench.core.models.registry import wrap_model

    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 2))
    model = wrap_model(net, {"mean": (0,) * 3, "std": (1,) * 3, "input_size": (8, 8)},
                       ["a", "b"], "tiny", "test", "image", "cpu")
    with pytest.raises(InputError, match="detector or a segmenter"):
        dense_frames(model, clip, [0])


def test_annotated_mp4_shows_the_boxes_in_their_colours(clip, tmp_path):
    model = toy_detector()
    known = dense_frames(model, clip, range(4)).frames  # reused; the rest computed
    out = write_dense_video(tmp_path / "boxes.mp4", clip, model, threshold=0.0, track=True,
                            known=known)
    shown = decoded(out)
    assert len(shown) == FRAMES and shown[0].shape == (*SIZE, 3)
    colours = np.array(class_colors(3), np.float32)
    # box 1 (class "square") is [24, 8, 44, 28] in the input: [48, 16, 88, 56] here; its
    # right edge (columns 86–87) at rows 40–50 is below the tag and away from the others
    for index in (2, 15):
        edge = shown[index][40:50, 86:88].reshape(-1, 3).astype(np.float32).mean(0)
        assert np.abs(edge - colours[1]).max() < 40, edge
        outside = shown[index][40:50, 90:94].astype(np.float32)
        assert outside.max() < 40  # black beyond the box
    # box 0 (class "disc", [8, 8, 40, 32]): left edge columns 8–9, rows 20–30
    edge = shown[20][20:30, 8:10].reshape(-1, 3).astype(np.float32).mean(0)
    assert np.abs(edge - colours[0]).max() < 40, edge


def test_annotated_segmentation_video(clip, tmp_path):
    model = toy_segmenter()
    out = write_dense_video(tmp_path / "classes.gif", clip, model, start=5, stop=9)
    shown = decoded(out)
    assert len(shown) == 4 and shown[0].shape[:2] == SIZE
    assert shown[0].astype(np.float32).std() > 5  # class colours over the frame


def test_the_built_in_detector_tracks_drifting_digits(tmp_path):
    from workbench.core.models import load_model
    from workbench.core.models.digit_scenes import make_scenes
    from workbench.core.tasks.tracking import track_detections
    from workbench.errors import WorkbenchError

    try:
        model = load_model("digits_detector")
    except WorkbenchError:
        pytest.skip("digits_detector weights are not trained yet")
    scene = make_scenes(1, seed=3, split="held_out", count=(3, 3), digit_size=(32, 40))[0]
    base = (scene.image * 255).astype(np.uint8)
    path = tmp_path / "digits.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25, options={"crf": "12"})
        stream.height, stream.width = base.shape[:2]
        stream.pix_fmt = "yuv420p"
        for index in range(12):
            picture = np.roll(base, 2 * index, axis=1)  # 2 px a frame to the right
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    result = dense_frames(model, path, range(12), threshold=0.5)
    sequence = [result.frames[i] for i in range(12)]
    assert sorted(sequence[0].labels.tolist()) == sorted(scene.labels.tolist())
    ids = track_detections(sequence)
    assert set(ids[0].tolist()) == set(ids[-1].tolist()) == {1, 2, 3}
    shift = sequence[-1].original_boxes()[ids[-1] == 1][0] - sequence[0].original_boxes()[
        ids[0] == 1][0]
    assert abs(shift[0] - 22) < 4  # 11 frames × 2 px
