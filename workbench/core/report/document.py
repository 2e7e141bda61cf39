"""What a report is made of: its inputs, its options (every parameter with its default), and
the sections it holds — each a figure, the parameters behind it, the numbers behind it and
its provenance.  Plain data: the PDF and HTML writers in :mod:`workbench.io` lay it out."""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class ReportInput:
    """One analysed picture: an image file, an image in memory, a video frame, or (for the
    ``video`` section) a whole video (``image`` is then its first frame or ``None``)."""

    name: str
    image: np.ndarray | None  # (H, W, 3) float32 in [0, 1]
    path: str | None = None
    frame: int | None = None  # frame number when the picture is a video's frame
    video: bool = False  # the whole video (only the ``video`` section reads it)

    @property
    def key(self) -> str:
        """The input's identity for reuse: path (or name) and frame number."""
        base = self.path or self.name
        return f"{base}#frame{self.frame}" if self.frame is not None else base

    @property
    def label(self) -> str:
        return f"{self.name}, frame {self.frame}" if self.frame is not None else self.name


@dataclass
class ReportOptions:
    """Every parameter a report may use; each section records the ones it used."""

    topk: int = 5
    layer: str | None = None  # attribution layer (None: the model's default CAM layer)
    method_params: dict = field(default_factory=dict)  # attribution method parameters
    faithfulness: bool = True  # deletion / insertion AUCs of each attribution map
    faithfulness_steps: int = 16
    window: int = 32  # occlusion sweep
    stride: int = 16
    fill: str = "0.5"
    mask: object = None  # paint-occlusion: a mask PNG path or an (H, W) array, white = hidden
    attack: str = "fgsm"
    eps: float = 8 / 255
    attack_steps: int | None = None
    attack_params: dict = field(default_factory=dict)  # the attack's other parameters
    attack_target: object = None  # None: untargeted; a class index; "least-likely"
    featviz_layer: str | None = None
    channel: int = 0
    featviz_steps: int = 48
    featviz_size: int = 128
    featviz_config: dict = field(default_factory=dict)  # FeatureVizConfig overrides
    featviz_seed: int = 0
    embed_dataset: str = "auto"  # auto: digits for digits models, else the bundled samples
    embed_layer: str | None = None  # None: the penultimate layer
    embed_method: str = "pca"
    neighbours: int = 8
    metric: str = "cosine"
    video_fps: float = 2.0
    video_every: int | None = None  # sample every n-th frame instead of video_fps
    video_span: tuple | None = None  # (first, last) frame sampled; None: the whole video
    frames: tuple = (0,)  # frames of a video input analysed by the image sections
    colormap: str = "inferno"
    dark: bool = False

    def as_dict(self) -> dict:
        values = asdict(self)
        if isinstance(values["mask"], np.ndarray):
            values["mask"] = f"array {values['mask'].shape}"
        return values


@dataclass
class Section:
    """One analysis of one input (or of the model): what the writers lay out."""

    kind: str  # the section name: "predict", "gradcam", "occlusion", …
    title: str
    figure: np.ndarray | None  # (H, W, 3) uint8 from render_figure
    params: dict  # every parameter, defaults filled in
    numbers: list[dict]  # rows of the numbers behind the figure
    provenance: dict
    input: str = ""  # the input's label ("" for the model or a feature visualization)
    note: str = ""  # a sentence under the figure (e.g. what the numbers mean)
    reused: bool = False  # taken from the session rather than computed

    def summary(self) -> dict:
        """What ``--json`` prints about this section."""
        return {"kind": self.kind, "title": self.title, "input": self.input,
                "params": _jsonable(self.params), "numbers": _jsonable(self.numbers),
                "reused": self.reused, "has_figure": self.figure is not None}


@dataclass
class Report:
    """A titled list of sections plus the provenance common to all of them."""

    title: str
    sections: list[Section]
    provenance: dict
    inputs: list[str]
    options: dict
    seconds: float = 0.0
    created: str = field(default_factory=lambda: datetime.datetime.now().astimezone()
                         .isoformat(timespec="seconds"))

    def summary(self) -> dict:
        return {"title": self.title, "inputs": self.inputs, "created": self.created,
                "seconds": round(self.seconds, 3), "provenance": _jsonable(self.provenance),
                "sections": [s.summary() for s in self.sections]}


def _jsonable(value):
    """Numbers, strings, lists and dicts only (numpy scalars and arrays become Python)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 64 else f"array {value.shape}"
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def cell_text(value) -> str:
    """A table cell: floats to 4 significant digits, the rest as text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    if value is None:
        return "–"
    if isinstance(value, (list, tuple)):
        return ", ".join(cell_text(v) for v in value)
    return str(value)
