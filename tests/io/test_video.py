"""Reading videos: exact frames by index and time in every container the tests encode,
forwards and backwards, variable frame rates, rotation, the cache bound, prefetched
batches, and one clear message for every bad file."""

import numpy as np
import pytest

from tests.io.video_corpus import (
    corrupt_packet,
    index_of,
    make_audio_only,
    make_empty_video,
    make_video,
    pattern,
)
from workbench.io.video import VideoLoadError, VideoReader, read_info, thumbnail

FORMATS = {
    "mp4-h264": ("clip.mp4", {"codec": "libx264"}),
    "mp4-mpeg4": ("clip.mp4", {"codec": "mpeg4"}),
    "mkv": ("clip.mkv", {"codec": "libx264"}),
    "webm": ("clip.webm", {"codec": "libvpx-vp9"}),
    "gif": ("clip.gif", {"codec": "gif", "pix_fmt": "rgb8"}),
}


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_every_frame_is_exact_forwards_backwards_and_at_random(tmp_path, kind):
    name, options = FORMATS[kind]
    path = make_video(tmp_path / name, frames=40, **options)
    with VideoReader(path, cache_mb=0.01) as reader:  # a tiny cache: every read decodes
        assert reader.info.frame_count == 40 and reader.info.fps == pytest.approx(25)
        assert [index_of(reader.frame(i)) for i in range(40)] == list(range(40))
        assert [index_of(reader.frame(i)) for i in reversed(range(40))] == \
            list(reversed(range(40)))
        order = np.random.default_rng(0).permutation(40)
        assert [index_of(reader.frame(int(i))) for i in order] == order.tolist()
        assert index_of(reader.frame_at(1.0)[1]) == 25  # 1 s at 25 fps


def test_variable_frame_rate_is_told_and_exact(tmp_path):
    gaps = [0.04, 0.12] * 20
    times = list(np.concatenate([[0.0], np.cumsum(gaps)])[:40])
    path = make_video(tmp_path / "vfr.mkv", frames=40, times=times)
    with VideoReader(path) as reader:
        info = reader.info
        assert info.variable_fps and info.fps == pytest.approx(39 / times[-1], rel=0.02)
        assert [index_of(reader.frame(i)) for i in range(40)] == list(range(40))
        for index in (0, 7, 20, 39):
            assert reader.index_at(times[index] + 0.001) == index
            assert reader.time_of(index) == pytest.approx(times[index], abs=0.002)


def test_rotation_metadata_is_applied(tmp_path):
    path = make_video(tmp_path / "turned.mp4", frames=5, rotation=90)
    with VideoReader(path) as reader:
        assert reader.info.rotation == 90
        assert (reader.info.width, reader.info.height) == (64, 96)
        frame = reader.frame_uint8(3)
        assert frame.shape == (96, 64, 3)
        upright = np.rot90(frame, -1)  # undo the display's counter-clockwise turn
        assert index_of(upright) == 3
        assert upright[2, 2, 0] > 200 and upright[2, 2, 1] < 80  # the red corner mark


def test_the_cache_is_bounded_in_megabytes(tmp_path):
    path = make_video(tmp_path / "clip.mkv", frames=60)
    frame_bytes = pattern(0).nbytes
    with VideoReader(path, cache_mb=10 * frame_bytes / 2**20) as reader:
        for index in range(60):
            reader.frame_uint8(index)
        assert reader._cached_bytes <= 10 * frame_bytes and len(reader._cache) <= 10


def test_batches_are_decoded_ahead_in_order(tmp_path):
    path = make_video(tmp_path / "clip.mp4", frames=50)
    with VideoReader(path) as reader, reader.batches(range(0, 50, 3), 4) as batches:
        seen = []
        for indices, frames in batches:
            assert frames.dtype == np.uint8 and frames.shape[1:] == (64, 96, 3)
            seen += [(i, index_of(f)) for i, f in zip(indices, frames, strict=True)]
    assert [i for i, _ in seen] == list(range(0, 50, 3))
    assert all(i == shown for i, shown in seen)


def test_info_thumbnail_and_downscaling(tmp_path):
    path = make_video(tmp_path / "clip.mp4", frames=10, size=(320, 160))
    info = read_info(path)
    assert (info.codec, info.width, info.height, info.frame_count) == ("h264", 320, 160, 10)
    assert info.duration == pytest.approx(10 / 25, abs=0.05)
    assert max(thumbnail(path, 64).shape[:2]) == 64
    with VideoReader(path, max_side=80) as reader:  # an absurd size is downscaled on decode
        assert reader.frame_uint8(4).shape == (40, 80, 3)


def truncated(tmp_path):
    whole = make_video(tmp_path / "whole.mkv", frames=60)
    data = whole.read_bytes()
    path = tmp_path / "truncated.mkv"
    path.write_bytes(data[: len(data) // 2])
    return path


def test_a_truncated_file_gives_the_frames_it_has(tmp_path):
    with VideoReader(truncated(tmp_path)) as reader:
        count = reader.info.frame_count
        assert 10 < count < 60
        assert index_of(reader.frame(count - 2)) == count - 2


def test_a_corrupt_packet_mid_stream_is_skipped(tmp_path):
    path = corrupt_packet(make_video(tmp_path / "clip.mkv", frames=60, codec="mpeg4"), 30)
    with VideoReader(path) as reader:
        assert reader.info.frame_count == 60
        assert [index_of(reader.frame(i)) for i in (10, 50, 59)] == [10, 50, 59]


@pytest.mark.parametrize("case", ["empty", "text", "audio", "no-frames", "missing", "folder"])
def test_bad_files_say_what_is_wrong(tmp_path, case):
    path = {"empty": tmp_path / "empty.mp4", "text": tmp_path / "notes.mp4",
            "audio": tmp_path / "sound.wav", "no-frames": tmp_path / "nothing.mkv",
            "missing": tmp_path / "gone.mp4", "folder": tmp_path}[case]
    if case == "empty":
        path.write_bytes(b"")
    elif case == "text":
        path.write_text("this is not a video")
    elif case == "audio":
        make_audio_only(path)
    elif case == "no-frames":
        make_empty_video(path)
    with pytest.raises(VideoLoadError) as error:
        VideoReader(path)
    message = str(error.value)
    assert str(path) in message and "\n" not in message
    expected = {"empty": "empty", "text": "not a video", "audio": "no video stream",
                "no-frames": "no frames", "missing": "not found", "folder": "folder"}[case]
    assert expected in message, message


def test_animated_webp_and_gif_open_as_videos(tmp_path):
    from PIL import Image

    from workbench.io.video import is_video_file

    frames = [Image.fromarray(pattern(i)) for i in range(12)]
    path = tmp_path / "anim.webp"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=80, lossless=True)
    assert is_video_file(path)
    with VideoReader(path) as reader:
        assert reader.info.frame_count == 12 and reader.info.fps == pytest.approx(12.5)
        assert [index_of(reader.frame(i)) for i in (11, 0, 5)] == [11, 0, 5]
        assert reader.index_at(0.5) == 6
    still = tmp_path / "still.webp"
    frames[0].save(still)
    assert not is_video_file(still)  # a still WebP stays an image
