"""Sample photos bundled with scikit-image and scikit-learn (no download)."""

from __future__ import annotations

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
DEFAULT_SAMPLE = "chelsea"


def sample(name: str) -> Sample:
    for s in SAMPLES:
        if s.name == name:
            return s
    raise ImageLoadError(name, f"no such sample; try one of {', '.join(s.name for s in SAMPLES)}")


def sample_path(name: str) -> Path:
    return sample(name).path()


def available_samples() -> list[Sample]:
    return [s for s in SAMPLES if s.path().is_file()]
