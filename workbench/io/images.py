"""Open an image file as float32 RGB pixels in [0, 1] (DESIGN.md §2), safely.

Formats are an explicit allow-list; EXIF orientation is applied; alpha is
composited onto neutral grey; 16-bit and float images are scaled by their own
range; decompression bombs and images too large for memory are refused before
decoding.  Every failure is an :class:`ImageLoadError` with a readable reason.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from workbench.errors import ImageLoadError

FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "WEBP", "GIF")
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
MAX_PIXELS = 89_478_485  # Pillow's own bomb threshold; we refuse rather than warn
DEFAULT_MAX_SIDE = 2048  # larger images are downscaled on load (models see ≤ 600 px)
BACKGROUND = 0.5  # neutral grey under transparent pixels


def _open_checked(path: Path) -> Image.Image:
    if not path.exists():
        raise ImageLoadError(path, "file not found")
    if path.is_dir():
        raise ImageLoadError(path, "it is a folder, not an image file")
    if not os.access(path, os.R_OK):
        raise ImageLoadError(path, "permission denied")
    if path.stat().st_size == 0:
        raise ImageLoadError(path, "the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path, formats=FORMATS)
    except UnidentifiedImageError as exc:
        raise ImageLoadError(
            path, f"not an image in a supported format ({', '.join(FORMATS)})"
        ) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(path, f"image is too large to decode safely ({exc})") from exc
    except PermissionError as exc:
        raise ImageLoadError(path, "permission denied") from exc
    except OSError as exc:
        raise ImageLoadError(path, f"cannot read the file ({exc})") from exc
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise ImageLoadError(
            path,
            f"image is too large ({width}×{height} = {width * height / 1e6:.0f} megapixels; "
            f"the limit is {MAX_PIXELS / 1e6:.0f})",
        )
    return image


def _to_array(image: Image.Image) -> np.ndarray:
    """Any Pillow mode → ``(H, W, 3)`` float32 in [0, 1]."""
    mode = image.mode
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3:4]
        return rgba[..., :3] * alpha + BACKGROUND * (1.0 - alpha)
    if mode == "CMYK" or mode == "YCbCr" or mode == "HSV" or mode == "LAB":
        image = image.convert("RGB")
    array = np.asarray(image)
    array = _scale_to_unit(array, mode)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    return np.ascontiguousarray(array[..., :3], dtype=np.float32)


def _scale_to_unit(array: np.ndarray, mode: str) -> np.ndarray:
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16 or mode.startswith("I;16") or mode == "I":
        return np.clip(array.astype(np.float32) / 65535.0, 0.0, 1.0)
    if np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float32)
        top = float(np.nanmax(array)) if array.size else 1.0
        array = array / top if top > 1.0 else array
        return np.clip(np.nan_to_num(array), 0.0, 1.0)
    info = np.iinfo(array.dtype)
    return np.clip(array.astype(np.float32) / info.max, 0.0, 1.0)


def load_image(path, max_side: int | None = DEFAULT_MAX_SIDE) -> np.ndarray:
    """Read ``path`` as an ``(H, W, 3)`` float32 RGB array in [0, 1].

    Parameters
    ----------
    path
        An image file (PNG, JPEG, BMP, TIFF, WebP; the first page of a multi-page TIFF or
        the first frame of an animated GIF / WebP).
    max_side
        Downscale so that the longer side is at most this many pixels (``None``: never).

    Raises
    ------
    ImageLoadError
        With a message naming the file and the problem.
    """
    path = Path(path)
    image = _open_checked(path)
    try:
        with image:
            if getattr(image, "n_frames", 1) > 1:
                image.seek(0)  # a multi-page TIFF or an animation: its first page
            if max_side and image.format == "JPEG":
                image.draft("RGB", (max_side, max_side))
            image.load()
            image = ImageOps.exif_transpose(image)
            if max_side and max(image.size) > max_side:
                image = _downscale(image, max_side)
            return _to_array(image)
    except ImageLoadError:
        raise
    except MemoryError as exc:
        raise ImageLoadError(path, "not enough memory to decode this image") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageLoadError(path, f"the file is truncated or damaged ({exc})") from exc


def _downscale(image: Image.Image, max_side: int) -> Image.Image:
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    scale = max_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def is_image_file(path) -> bool:
    return Path(path).suffix.lower() in EXTENSIONS


def list_images(folder, recursive: bool = False) -> list[Path]:
    """Image files in ``folder`` by extension, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageLoadError(folder, "not a folder")
    pattern = "**/*" if recursive else "*"
    try:
        return sorted(p for p in folder.glob(pattern) if p.is_file() and is_image_file(p))
    except OSError as exc:
        raise ImageLoadError(folder, f"cannot list the folder ({exc})") from exc


def expand_paths(paths) -> list[Path]:
    """Files stay as they are; folders become the images inside them."""
    result: list[Path] = []
    for p in map(Path, paths):
        result.extend(list_images(p) if p.is_dir() else [p])
    return result
