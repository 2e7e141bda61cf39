"""What the embedding explorer maps: image folders, opened inputs, video frames, digits.

A :class:`Dataset` is a list of :class:`Item` (a file, a video frame or an
in-memory array, with a label index, ``-1`` when unknown) plus the label
names.  Nothing is decoded when a dataset is built; :meth:`Dataset.load` and
:meth:`Dataset.stream` decode on demand, and a file that cannot be read
becomes an :class:`~workbench.errors.ImageLoadError` for that item only.
:meth:`Dataset.fingerprint` identifies the exact inputs (file list, sizes and
modification times, or the arrays' bytes) for the feature cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workbench.errors import ImageLoadError, WorkbenchError
from workbench.io.images import is_image_file, list_images, load_image
from workbench.io.video import VIDEO_EXTENSIONS  # noqa: E402 - one list of video kinds

DIGITS = "digits"


@dataclass(frozen=True, eq=False)
class Item:
    """One point of a dataset: a file, a frame of a video, or an in-memory image."""

    name: str
    label: int = -1
    path: str | None = None
    array: np.ndarray | None = None
    frame: int | None = None


@dataclass(eq=False)
class Dataset:
    """Items to embed, their label names, and how to read them.

    ``kind`` is ``"folder"``, ``"files"``, ``"video"``, ``"digits"`` or ``"arrays"``.
    """

    name: str
    kind: str
    items: list[Item]
    label_names: list[str] = field(default_factory=list)
    source: str = ""
    every: int = 1
    frame_rate: float = 0.0

    def __len__(self) -> int:
        return len(self.items)

    @property
    def labels(self) -> np.ndarray:
        return np.array([item.label for item in self.items], dtype=np.int64)

    @property
    def names(self) -> list[str]:
        return [item.name for item in self.items]

    @property
    def sequential(self) -> bool:
        """True when items must be decoded in order (video frames)."""
        return self.kind == "video"

    def load(self, index: int) -> np.ndarray:
        """Item ``index`` as an ``(H, W, 3)`` float32 image in [0, 1]."""
        item = self.items[index]
        if item.array is not None:
            return _as_rgb(item.array, item.name)
        if item.frame is not None:
            for i, image, error in self.stream(start=index, stop=index + 1):
                if i == index and error is None:
                    return image
            raise ImageLoadError(item.name, "the frame could not be decoded")
        return load_image(item.path)

    def stream(self, start: int = 0, stop: int | None = None) -> Iterator[tuple]:
        """``(index, image, None)`` or ``(index, None, message)`` for each item, in order."""
        stop = len(self.items) if stop is None else stop
        if self.sequential:
            yield from _video_frames(self, start, stop)
            return
        for index in range(start, stop):
            try:
                yield index, self.load(index), None
            except WorkbenchError as exc:
                yield index, None, problem_of(exc)

    def fingerprint(self) -> str:
        """A stable hash of exactly what would be read: paths, sizes, mtimes, or array bytes."""
        digest = hashlib.sha256()
        digest.update(json.dumps([self.kind, self.every, self.label_names]).encode())
        stats: dict[str, tuple] = {}
        for item in self.items:
            digest.update(json.dumps([item.name, item.label, item.frame]).encode())
            if item.array is not None:
                array = np.ascontiguousarray(item.array)
                digest.update(f"{array.dtype}{array.shape}".encode())
                digest.update(array.tobytes())
            elif item.path is not None:
                if item.path not in stats:
                    stats[item.path] = _file_stat(item.path)
                digest.update(json.dumps(stats[item.path]).encode())
        return digest.hexdigest()


def problem_of(exc: BaseException) -> str:
    return exc.problem if isinstance(exc, ImageLoadError) else str(exc)


def _file_stat(path: str) -> tuple:
    try:
        stat = os.stat(path)
    except OSError as exc:
        return (path, "missing", type(exc).__name__)
    return (path, stat.st_size, stat.st_mtime_ns)


def _as_rgb(array, name: str) -> np.ndarray:
    """An in-memory image as ``(H, W, 3)`` float32: greys are repeated, uint8 is scaled."""
    image = np.asarray(array)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ImageLoadError(name, f"expected an (H, W, 3) image, got shape {image.shape}")
    if image.dtype == np.uint8:
        image = image.astype(np.float32) / 255.0
    return np.ascontiguousarray(image[..., :3], dtype=np.float32)


# ---------------------------------------------------------------------------- builders


def folder_dataset(path) -> Dataset:
    """Images in ``path``; each subfolder is a label (ImageFolder-style), recursively.

    Images directly in ``path`` get label ``-1``; a flat folder therefore has no
    labels.  Hidden files and folders are ignored, as are files that are not
    images by extension; files that fail to decode are skipped at extraction.
    """
    root = Path(path)
    if not root.is_dir():
        raise ImageLoadError(root, "not a folder")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not _hidden(p.name))
    items = [Item(str(p), -1, str(p)) for p in list_images(root) if not _hidden(p.name)]
    for label, name in enumerate(classes):
        for file in _images_below(root / name):
            items.append(Item(str(file), label, str(file)))
    if not items:
        raise WorkbenchError(f"'{root}' contains no images (looked for {', '.join(_exts())})")
    labelled = any(item.label >= 0 for item in items)
    return Dataset(root.name or str(root), "folder", items, classes if labelled else [],
                   str(root))


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _exts() -> list[str]:
    from workbench.io.images import EXTENSIONS

    return list(EXTENSIONS)


def _images_below(folder: Path) -> list[Path]:
    files = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not _hidden(d))
        files += [Path(dirpath) / f for f in filenames if not _hidden(f) and is_image_file(f)]
    return sorted(files)


def files_dataset(paths, name: str = "inputs") -> Dataset:
    """Image files (folders expand to the images inside them), without labels."""
    from workbench.io.images import expand_paths

    items = [Item(str(p), -1, str(p)) for p in expand_paths(paths)]
    return Dataset(name, "files", items, [], "")


def arrays_dataset(pairs, name: str = "inputs", labels=None, label_names=None) -> Dataset:
    """In-memory images: ``[(name, (H, W, 3) array), ...]``; labels optional."""
    pairs = list(pairs)
    labels = [-1] * len(pairs) if labels is None else [int(v) for v in labels]
    if len(labels) != len(pairs):
        raise WorkbenchError(f"{len(labels)} labels for {len(pairs)} images")
    items = [Item(str(name_), label, None, np.asarray(array))
             for (name_, array), label in zip(pairs, labels, strict=True)]
    return Dataset(name, "arrays", items, list(label_names or []), "")


def inputs_dataset(inputs, name: str = "inputs") -> Dataset:
    """The opened inputs: paths (files or folders) and ``(name, array)`` pairs, mixed."""
    from workbench.io.images import expand_paths

    items: list[Item] = []
    for entry in inputs:
        if isinstance(entry, tuple):
            items.append(Item(str(entry[0]), -1, None, np.asarray(entry[1])))
        else:
            items += [Item(str(p), -1, str(p)) for p in expand_paths([entry])]
    return Dataset(name, "files", items, [], "")


def digits_dataset() -> Dataset:
    """scikit-learn's 1797 8×8 digits (the ``digits_lenet`` lesson), labelled 0–9."""
    from workbench.core.models.digits_data import digits_images

    images, targets = digits_images()
    items = [Item(f"digits[{i}]", int(t), None, image)
             for i, (image, t) in enumerate(zip(images, targets, strict=True))]
    return Dataset(DIGITS, "digits", items, [str(d) for d in range(10)], DIGITS)


def video_dataset(path, every: int = 10) -> Dataset:
    """Every ``every``-th frame of a video (``workbench.io.video``), decoded when extracted."""
    from workbench.io.video import read_info

    path = Path(path)
    if every < 1:
        raise WorkbenchError(f"every must be at least 1, not {every}")
    info = read_info(path)
    items = [Item(f"{path}#frame={f}", -1, str(path), None, f)
             for f in range(0, info.frame_count, every)]
    return Dataset(path.name, "video", items, [], str(path), every, info.fps)


def _video_frames(dataset: Dataset, start: int, stop: int) -> Iterator[tuple]:
    """The frames the items ask for, decoded ahead on the video reader's own thread."""
    from workbench.io.video_batches import PrefetchingBatches

    wanted = [(index, dataset.items[index].frame) for index in range(start, stop)]
    frames = [frame for _index, frame in wanted]
    row = iter(wanted)
    try:
        with PrefetchingBatches(dataset.source, frames, 8, 2, max_side=4096) as batches:
            for _chunk, pictures in batches:
                for picture in pictures:
                    index, _frame = next(row)
                    yield index, picture.astype(np.float32) / 255.0, None
    except WorkbenchError as exc:
        for index, _frame in row:
            yield index, None, problem_of(exc)


def open_dataset(spec, every: int = 10) -> Dataset:
    """``digits``, a folder, a video file or an image file, as given on the command line."""
    if str(spec) == DIGITS:
        return digits_dataset()
    path = Path(spec)
    if path.is_dir():
        return folder_dataset(path)
    if not path.exists():
        raise WorkbenchError(f"'{spec}' is not a folder, a video, an image or 'digits'")
    if path.suffix.lower() in VIDEO_EXTENSIONS:
        return video_dataset(path, every)
    if is_image_file(path):
        return files_dataset([path], path.name)
    raise WorkbenchError(f"'{spec}' is not a folder, a video ({', '.join(VIDEO_EXTENSIONS)}), "
                         "an image or 'digits'")
