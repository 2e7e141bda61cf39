"""Videos made by the tests with PyAV: every frame shows its own index as eight black or
white bars, so a decoded frame says which one it is, whatever the codec did to it."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

BITS = 8
WIDTH, HEIGHT = 96, 64


def pattern(index: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """``(height, width, 3)`` uint8: bar ``b`` (top to bottom) is white if bit ``b`` is set;
    a red square marks the top-left corner (to check rotation)."""
    picture = np.zeros((height, width, 3), np.uint8)
    bar = height // BITS
    for bit in range(BITS):
        if index >> bit & 1:
            picture[bit * bar: (bit + 1) * bar, width // 4:] = 255
    picture[: height // 4, : width // 8] = (255, 0, 0)
    return picture


def index_of(frame: np.ndarray) -> int:
    """The index a decoded frame shows (``frame`` float in [0, 1] or uint8)."""
    values = frame.astype(np.float32)
    values = values / 255.0 if frame.dtype == np.uint8 else values
    height, width = values.shape[:2]
    bar = height // BITS
    bits = [values[b * bar + bar // 4: (b + 1) * bar - bar // 4, width // 2:].mean() > 0.5
            for b in range(BITS)]
    return sum(1 << b for b, on in enumerate(bits) if on)


def make_video(path, frames: int = 40, codec: str = "libx264", fps: int = 25,
               rotation: int | None = None, times: list[float] | None = None,
               keyframe_every: int = 12, pix_fmt: str = "yuv420p",
               size=(WIDTH, HEIGHT)) -> Path:
    """Encode ``frames`` pattern frames; ``times`` (seconds) makes the rate variable."""
    path = Path(path)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = pix_fmt
        if codec not in ("gif",):
            stream.codec_context.gop_size = keyframe_every
        if times is not None:
            stream.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(pattern(index, *size), format="rgb24")
            if times is not None:
                frame.pts = int(round(times[index] * 1000))
                frame.time_base = Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_audio_only(path) -> Path:
    path = Path(path)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        stream.layout = "mono"
        samples = np.zeros((1, 800), np.int16)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_empty_video(path) -> Path:
    """A container with a video stream and no frames."""
    path = Path(path)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height = WIDTH, HEIGHT
        stream.pix_fmt = "yuv420p"
        container.start_encoding()  # the header, and not one frame
    return path


def corrupt_packet(path, number: int, length: int = 64) -> Path:
    """Overwrite ``length`` bytes inside packet ``number``'s payload (the container stays
    intact: only that packet is damaged)."""
    with av.open(str(path)) as container:
        packets = [(p.pos, p.size) for p in container.demux(container.streams.video[0])
                   if p.size]
    position, size = packets[number]
    data = bytearray(Path(path).read_bytes())
    start = position + size // 3
    data[start: start + min(length, size // 2)] = bytes(range(min(length, size // 2)))
    Path(path).write_bytes(bytes(data))
    return Path(path)
