"""Reading videos with PyAV (https://pyav.org), Qt-free: metadata, exact frames by index
or time, a bounded cache; batches decoded ahead on their own thread are in
:mod:`workbench.io.video_batches`.

Frames are numbered in presentation order.  The presentation timestamps of every frame
come from demuxing the packets once (no decoding), so access is exact for constant and
variable frame rates alike: :meth:`VideoReader.frame` seeks to the keyframe before the
frame and decodes forward to it; reading the next frame continues decoding without a
seek.  Rotation metadata is applied; frames larger than :data:`MAX_SIDE` are
downscaled as they are decoded.  Problems raise :class:`VideoLoadError` naming the file.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from workbench.errors import WorkbenchError

VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".gif", ".webp")
ANIMATED_IMAGES = (".gif", ".webp")  # videos only when they hold more than one frame
MAX_SIDE = 2160  # frames larger than this are downscaled on decode
DEFAULT_CACHE_MB = 256
FORWARD_DECODE_LIMIT = 48  # frames ahead that are decoded rather than sought
VFR_TOLERANCE = 0.02
DEMUX_LIMIT_BYTES = 256 * 2**20  # larger files: timestamps from the header, not the packets


class VideoLoadError(WorkbenchError):
    """A video could not be opened or decoded; the message names the file."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"Cannot open video '{self.path}': {problem}")


@dataclass(frozen=True)
class VideoInfo:
    path: str
    codec: str
    width: int  # as shown (after rotation and downscaling)
    height: int
    fps: float  # average frame rate
    variable_fps: bool
    frame_count: int
    counted: bool  # the container did not say: frames were counted
    duration: float  # seconds
    rotation: int  # degrees (counter-clockwise) the stored frames turn to be shown upright
    damaged_packets: int = 0

    def as_dict(self) -> dict:
        return dict(vars(self))

    def time_of(self, index: int) -> float:
        return index / self.fps if self.fps > 0 else 0.0


def is_video_file(path) -> bool:
    """A video container, or an animated GIF / WebP (a still one is an image)."""
    suffix = Path(path).suffix.lower()
    if suffix in ANIMATED_IMAGES:
        return _frames_in_image(path) > 1
    return suffix in VIDEO_EXTENSIONS


def _frames_in_image(path) -> int:
    from PIL import Image

    try:
        with Image.open(path) as image:
            return int(getattr(image, "n_frames", 1))
    except (OSError, ValueError):
        return 0


def _open(path: Path):
    import av

    if not path.exists():
        raise VideoLoadError(path, "file not found")
    if path.is_dir():
        raise VideoLoadError(path, "it is a folder, not a video file")
    if path.stat().st_size == 0:
        raise VideoLoadError(path, "the file is empty")
    try:
        container = av.open(str(path))
    except av.error.EOFError as exc:
        raise VideoLoadError(path, "it holds no frames (the file ends after its header)") \
            from exc
    except av.FFmpegError as exc:
        raise VideoLoadError(path, f"not a video FFmpeg can read ({_reason(exc)})") from exc
    except (OSError, ValueError) as exc:
        raise VideoLoadError(path, f"cannot read the file ({exc})") from exc
    if not container.streams.video:
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "nothing"
        container.close()
        raise VideoLoadError(path, f"it has no video stream (it holds {kinds})")
    return container


def _reason(exc) -> str:
    """FFmpeg's words without the error number and the file name (the message has it)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = text.split("] ", 1)[-1] if text.startswith("[Errno") else text
    return text.split(": '", 1)[0]


def _timestamps(container, stream, path) -> tuple[list[int], int, set]:
    """Every frame's presentation timestamp, in order, by demuxing (not decoding); for a
    file too large to read at once, from the header's frame count and average rate."""
    import av

    if path.stat().st_size > DEMUX_LIMIT_BYTES and stream.average_rate and (
            stream.frames or stream.duration):
        return _regular_timestamps(stream), 0, set()

    stamps, damaged, keys = [], 0, set()
    try:
        for packet in container.demux(stream):
            if packet.size == 0 and packet.pts is None:
                continue  # the flushing packet
            if packet.is_corrupt:
                damaged += 1
            stamp = packet.pts if packet.pts is not None else packet.dts
            if stamp is not None:
                stamps.append(int(stamp))
                if packet.is_keyframe:
                    keys.add(int(stamp))
    except av.FFmpegError:
        damaged += 1  # a truncated file: keep the packets read so far
    container.seek(0, stream=stream)
    stamps.sort()
    if not stamps:
        raise VideoLoadError(path, "the video stream holds no frames")
    return stamps, damaged, keys


def _regular_timestamps(stream) -> list[int]:
    rate, base = Fraction(stream.average_rate), Fraction(stream.time_base)
    count = stream.frames or int(float(stream.duration * base) * float(rate))
    start = stream.start_time or 0
    return [start + round(i / rate / base) for i in range(max(1, count))]


class VideoReader:
    """An open video; not thread-safe — one reader per thread (the window keeps one for
    display and jobs open their own)."""

    def __init__(self, path, cache_mb: float = DEFAULT_CACHE_MB, max_side: int = MAX_SIDE,
                 keep_passed: bool = True, threads: int = 0):
        """``keep_passed``: cache the frames decoded on the way to a frame (stepping back
        is then instant); batch readers, which only go forward, do not.  ``threads``: FFmpeg's
        decoding threads (0: its choice; a batch reader feeding a model takes one, so the
        model keeps the other cores)."""
        self.path = Path(path)
        self.max_side = max_side
        self.keep_passed = keep_passed
        self.cache_bytes = int(cache_mb * 2**20)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cached_bytes = 0
        self._decoder = None
        self._next_index = None
        self.damaged = 0  # packets that failed to decode so far
        self.animation = None
        if self.path.suffix.lower() == ".webp":  # FFmpeg does not decode animated WebP
            self._open_animation()
            return
        self.container = _open(self.path)
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"  # FFmpeg's own decoding threads
        if threads:
            self.stream.thread_count = threads
        self.time_base = Fraction(self.stream.time_base or Fraction(1, 1))
        try:
            self.stamps, damaged, keys = _timestamps(self.container, self.stream, self.path)
            self._index_of = {pts: i for i, pts in enumerate(self.stamps)}
            self.keyframes = np.array(sorted(self._index_of[k] for k in keys
                                             if k in self._index_of), np.int64)
            self.info = self._describe(damaged)
        except BaseException:
            self.container.close()
            raise

    def _open_animation(self) -> None:
        """An animated WebP through Pillow: every frame is a keyframe."""
        from PIL import Image, UnidentifiedImageError

        if not self.path.is_file() or self.path.stat().st_size == 0:
            _open(self.path)  # the same messages as for any video
        try:
            self.animation = Image.open(self.path, formats=("WEBP",))
        except (UnidentifiedImageError, OSError) as exc:
            raise VideoLoadError(self.path, f"not an animated WebP ({exc})") from exc
        count = int(getattr(self.animation, "n_frames", 1))
        durations = []
        for index in range(count):  # Pillow knows a frame's duration once it is loaded
            self.animation.seek(index)
            self.animation.load()
            durations.append(int(self.animation.info.get("duration", 40)) or 40)
        self.time_base = Fraction(1, 1000)
        self.stamps = [0, *np.cumsum(durations[:-1]).tolist()]
        self._index_of = {pts: i for i, pts in enumerate(self.stamps)}
        self.keyframes = np.arange(count, dtype=np.int64)
        span = self.stamps[-1] / 1000.0
        steps = np.asarray(durations, np.float64)
        rate = 1000.0 / float(steps.mean())
        width, height = self._shown_size(*self.animation.size, 0)
        self.info = VideoInfo(str(self.path), "webp", width, height, rate,
                              bool(steps.std() > VFR_TOLERANCE * steps.mean()), count, True,
                              span + durations[-1] / 1000.0, 0)

    # --------------------------------------------------------------- metadata
    def _describe(self, damaged: int) -> VideoInfo:
        stream = self.stream
        time_base = self.time_base
        count = len(self.stamps)
        span = float((self.stamps[-1] - self.stamps[0]) * time_base) if count > 1 else 0.0
        steps = np.diff(np.asarray(self.stamps, np.float64)) * float(time_base)
        variable = bool(steps.size > 1 and steps.std() > VFR_TOLERANCE * max(steps.mean(),
                                                                             1e-9))
        rate = float(stream.average_rate) if stream.average_rate and not variable else 0.0
        if rate <= 0:  # variable (or unknown): the frames' own average
            rate = (count - 1) / span if span > 0 else 25.0
        rotation = self._rotation()
        width, height = self._shown_size(stream.codec_context.width, stream.codec_context.height,
                                         rotation)
        return VideoInfo(str(self.path), stream.codec_context.name, width, height, rate,
                         variable, count, not stream.frames, span + 1.0 / rate, rotation,
                         damaged)

    def _rotation(self) -> int:
        try:
            frame = next(self.container.decode(self.stream))
        except (StopIteration, Exception) as exc:  # noqa: BLE001 - a missing codec, a broken file
            raise VideoLoadError(self.path, f"no frame could be decoded "
                                            f"({_reason(exc) if str(exc) else 'empty'})") from exc
        finally:
            self.container.seek(0, stream=self.stream)
        return int(round(getattr(frame, "rotation", 0) or 0)) % 360

    def _shown_size(self, width: int, height: int, rotation: int) -> tuple[int, int]:
        if rotation in (90, 270):
            width, height = height, width
        scale = min(1.0, self.max_side / max(width, height))
        return max(1, round(width * scale)), max(1, round(height * scale))

    # ----------------------------------------------------------------- frames
    def __len__(self) -> int:
        return self.info.frame_count

    def index_at(self, seconds: float) -> int:
        """The frame shown at ``seconds`` from the start."""
        time_base = float(self.time_base)
        target = self.stamps[0] + seconds / time_base
        index = int(np.searchsorted(self.stamps, target, side="right")) - 1
        return int(np.clip(index, 0, len(self.stamps) - 1))

    def time_of(self, index: int) -> float:
        return float((self.stamps[index] - self.stamps[0]) * self.time_base)

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as ``(H, W, 3)`` float32 RGB in [0, 1]."""
        return self.frame_uint8(index).astype(np.float32) / 255.0

    def keyframe_before(self, index: int) -> int:
        """The nearest keyframe at or before ``index`` (quick to show while scrubbing)."""
        if not len(self.keyframes):
            return int(index)
        position = int(np.searchsorted(self.keyframes, index, side="right")) - 1
        return int(self.keyframes[max(0, position)])

    def frame_at(self, seconds: float) -> tuple[int, np.ndarray]:
        index = self.index_at(seconds)
        return index, self.frame(index)

    def frame_uint8(self, index: int) -> np.ndarray:
        index = int(index)
        if not 0 <= index < len(self.stamps):
            raise VideoLoadError(self.path, f"frame {index} is outside 0 … {len(self.stamps) - 1}")
        cached = self._cache.get(index)
        if cached is not None:
            self._cache.move_to_end(index)
            return cached
        picture = self._decode_to(index)
        self._remember(index, picture)
        return picture

    def _decode_to(self, index: int) -> np.ndarray:
        if self.animation is not None:
            self.animation.seek(index)
            picture = self.animation.convert("RGB")
            if picture.size != (self.info.width, self.info.height):
                picture = picture.resize((self.info.width, self.info.height))
            return np.asarray(picture)
        ahead = None if self._next_index is None else index - self._next_index
        if ahead is None or not 0 <= ahead <= FORWARD_DECODE_LIMIT:
            self.container.seek(self.stamps[index], stream=self.stream, backward=True,
                                any_frame=False)
            self._decoder = self._frames()
        wanted = self.stamps[index]
        for pts, frame in self._decoder:
            position = self._index_of.get(pts)
            if position is not None:
                self._next_index = position + 1
            if pts is not None and pts >= wanted:
                return self._convert(frame)
            if self.keep_passed and position is not None and \
                    FORWARD_DECODE_LIMIT >= index - position > 0 and position not in self._cache:
                self._remember(position, self._convert(frame))  # frames on the way, cached
        raise VideoLoadError(self.path, f"frame {index} could not be decoded (the file may be "
                                        "truncated)")

    def _frames(self):
        """Decoded frames from the current position; a packet that fails to decode is
        skipped and counted (``damaged``), the stream goes on."""
        import av

        try:
            for packet in self.container.demux(self.stream):
                try:
                    frames = packet.decode()
                except av.FFmpegError:
                    self.damaged += 1
                    continue
                for frame in frames:
                    yield frame.pts, frame
        except av.FFmpegError:  # the container itself ends here (a truncated file)
            return

    def _convert(self, frame) -> np.ndarray:
        width, height = self.info.width, self.info.height
        if self.info.rotation in (90, 270):
            width, height = height, width
        if (frame.width, frame.height) != (width, height):
            frame = frame.reformat(width=width, height=height)
        picture = frame.to_ndarray(format="rgb24")
        turns = self.info.rotation // 90  # the display matrix turns counter-clockwise
        return np.ascontiguousarray(np.rot90(picture, turns)) if turns else picture

    def _remember(self, index: int, picture: np.ndarray) -> None:
        self._cache[index] = picture
        self._cached_bytes += picture.nbytes
        while self._cached_bytes > self.cache_bytes and len(self._cache) > 1:
            _old, dropped = self._cache.popitem(last=False)
            self._cached_bytes -= dropped.nbytes

    # ---------------------------------------------------------------- batches
    def batches(self, indices, batch_size: int, prefetch: int = 2):
        """Yield ``(indices, (B, H, W, 3) uint8)`` for ``indices`` (ascending), decoded on
        a separate thread while the caller works on the previous batch."""
        from workbench.io.video_batches import PrefetchingBatches

        return PrefetchingBatches(self.path, list(indices), batch_size, prefetch,
                                  self.max_side)

    def close(self) -> None:
        self._decoder = None
        self._cache.clear()
        if self.animation is not None:
            self.animation.close()
        else:
            self.container.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()
        return False


def read_info(path) -> VideoInfo:
    with VideoReader(path, cache_mb=1) as reader:
        return reader.info


def thumbnail(path, side: int = 96) -> np.ndarray:
    """A preview of the first frame, ``(h, w, 3)`` uint8."""
    from PIL import Image

    with VideoReader(path, cache_mb=1, max_side=4 * side) as reader:
        picture = Image.fromarray(reader.frame_uint8(0))
    picture.thumbnail((side, side))
    return np.asarray(picture.convert("RGB"))
