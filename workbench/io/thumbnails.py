"""Small previews for the Inputs dock, and batch loading that never stops on a bad file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from workbench.errors import ImageLoadError, WorkbenchError
from workbench.io.export import to_uint8
from workbench.io.images import expand_paths, load_image
from workbench.io.video import is_video_file, read_info
from workbench.io.video import thumbnail as video_thumbnail

THUMBNAIL_SIDE = 96


def make_thumbnail(image: np.ndarray, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    """An ``(h, w, 3)`` uint8 preview whose longer side is ``side``."""
    preview = Image.fromarray(to_uint8(image))
    if max(preview.size) < side // 2:  # tiny images (digits): enlarge with visible pixels
        scale = side // max(preview.size)
        preview = preview.resize((preview.width * scale, preview.height * scale),
                                 Image.Resampling.NEAREST)
    preview.thumbnail((side, side), Image.Resampling.LANCZOS)
    return np.asarray(preview.convert("RGB"))


def load_thumbnails(paths, ctx):
    """Report each file through ``ctx.partial((path, thumbnail, error, video info))``
    (the info is ``None`` for an image).

    Folders expand to their images.  Returns the list of ``(path, error)`` for
    the files that could not be read, so a caller can list what was skipped.
    """
    try:
        files = expand_paths(paths)
    except ImageLoadError as exc:
        ctx.partial((str(exc.path), None, str(exc), None))
        return [(exc.path, str(exc))]
    failures = []
    for done, path in enumerate(files):
        ctx.check()
        try:
            if is_video_file(path):
                info = read_info(path)
                ctx.partial((str(path), video_thumbnail(path, THUMBNAIL_SIDE), None, info))
            else:
                thumb = make_thumbnail(load_image(path, max_side=4 * THUMBNAIL_SIDE))
                ctx.partial((str(path), thumb, None, None))
        except WorkbenchError as exc:
            failures.append((str(path), str(exc)))
            ctx.partial((str(path), None, str(exc), None))
        ctx.progress((done + 1) / len(files), f"Opening {Path(path).name}")
    return failures
