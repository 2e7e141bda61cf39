"""Drawing a dense model's outputs on a picture (Pillow and numpy, no Qt): detection boxes
with class, score and track id, soft masks, and class-coloured segmentation maps.

One mechanism for every place that shows them burned in: the Video tab's overlay, its
annotated MP4 export, the command line and reports.  Boxes are continuous pixel edges
(``x0 = 4, x1 = 20`` covers columns 4 … 19); a box's outline is drawn *inside* those
edges, so its outermost pixels are exactly the box's first and last rows and columns.
Colours are :func:`workbench.io.palette.categorical` by class index.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from workbench.io.palette import class_colors

BACKGROUND_NAMES = ("background", "__background__")
MASK_THRESHOLD = 0.5


def _to_uint8(frame: np.ndarray) -> np.ndarray:
    if frame.dtype == np.uint8:
        return frame
    return (np.clip(frame, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _like(picture: np.ndarray, original: np.ndarray) -> np.ndarray:
    """``picture`` (uint8) back in the dtype of ``original`` (uint8, or float in [0, 1])."""
    if original.dtype == np.uint8:
        return picture
    return picture.astype(np.float32) / 255.0


def line_width(height: int, width: int) -> int:
    """A box outline that reads at the frame's size: 2 px on small frames (whole chroma
    blocks of 4:2:0 video), ~4 px on HD."""
    return max(2, round(min(height, width) / 240))


def text_size(height: int, width: int) -> int:
    return max(11, round(min(height, width) / 24))


def ink_for(colour) -> tuple[int, int, int]:
    """Black or white text, whichever contrasts more with ``colour``."""
    r, g, b = (c / 255.0 for c in colour)
    luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return (0, 0, 0) if luma > 0.45 else (255, 255, 255)


def pixel_box(box, height: int, width: int) -> tuple[int, int, int, int] | None:
    """``(x0, y0, x1, y1)`` inclusive pixel coordinates of a continuous xyxy box, clipped
    to the picture; ``None`` when nothing of it is inside."""
    x0, y0 = int(round(float(box[0]))), int(round(float(box[1])))
    x1, y1 = int(round(float(box[2]))) - 1, int(round(float(box[3]))) - 1
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width - 1, x1), min(height - 1, y1)
    if x1 < x0 or y1 < y0:
        return None
    return x0, y0, x1, y1


def blend(picture: np.ndarray, where: np.ndarray, colour, alpha: float) -> None:
    """Mix ``colour`` into ``picture`` (uint8, in place) where ``where`` is true."""
    if not where.any():
        return
    mixed = picture[where].astype(np.float32) * (1.0 - alpha) + np.asarray(colour) * alpha
    picture[where] = (mixed + 0.5).astype(np.uint8)


def _full_size_mask(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """A soft ``(h, w)`` mask at the model input's size → boolean ``(height, width)``."""
    if mask.shape != (height, width):
        mask = np.asarray(Image.fromarray(mask.astype(np.float32), mode="F").resize(
            (width, height), Image.Resampling.BILINEAR))
    return mask > MASK_THRESHOLD


def detection_caption(name: str, score: float, track_id: int | None = None,
                      show_score: bool = True) -> str:
    """``"cat 0.91 · #3"``: class, score, track id."""
    text = name if not show_score else f"{name} {score:.2f}"
    return text if track_id is None or track_id < 0 else f"{text} · #{int(track_id)}"


def draw_detections(frame: np.ndarray, detections, track_ids=None, threshold: float | None = None,
                    mask_alpha: float = 0.45, show_scores: bool = True,
                    width: int | None = None, tags: bool = True) -> np.ndarray:
    """``frame`` ``(H, W, 3)`` (float in [0, 1] or uint8) with each detection drawn: its box
    in the original picture's pixels (``detections.original_boxes()``), in its class's
    colour, a label tag (track id, class, score) above it, its mask blended when it has one.

    ``track_ids`` ``(D,)`` (``-1``: none) come from :mod:`workbench.core.tasks.tracking`;
    ``threshold`` draws only the detections scoring at least that; ``tags=False`` draws the
    boxes alone (a small picture).  Returns a new picture of ``frame``'s dtype.
    """
    picture = _to_uint8(frame).copy()
    height, width_px = picture.shape[:2]
    keep = np.ones(len(detections), bool) if threshold is None else \
        np.asarray(detections.scores) >= threshold
    colours = class_colors(max(1, len(detections.label_names)))
    boxes = detections.original_boxes()
    order = np.flatnonzero(keep)[::-1]  # the best drawn last, on top
    if detections.masks is not None:
        for i in order:
            colour = colours[int(detections.labels[i]) % len(colours)]
            blend(picture, _full_size_mask(detections.masks[i], height, width_px), colour,
                  mask_alpha)
    image = Image.fromarray(picture)
    draw = ImageDraw.Draw(image)
    stroke = width or line_width(height, width_px)
    from workbench.io.figure import font

    size = text_size(height, width_px)
    face = font(size)
    placed = {i: pixel_box(boxes[i], height, width_px) for i in order}
    placed = {i: where for i, where in placed.items() if where is not None}
    for i, where in placed.items():  # every box first, then every tag over them
        draw.rectangle(where, outline=colours[int(detections.labels[i]) % len(colours)],
                       width=stroke)
    for i, where in placed.items() if tags else ():
        label = int(detections.labels[i])
        track = None if track_ids is None else int(track_ids[i])
        name = detections.label_names[label] if 0 <= label < len(detections.label_names) \
            else f"class {label}"
        _tag(draw, where, detection_caption(name, float(detections.scores[i]), track,
                                            show_scores), colours[label % len(colours)],
             face, size, height)
    return _like(np.asarray(image), frame)


def _tag(draw, placed, text: str, colour, face, size: int, height: int) -> None:
    """A filled label tag on the box's top edge, outside it when there is room above."""
    x0, y0, _x1, _y1 = placed
    left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
    w, h = right - left + 4, bottom - top + 3
    y = y0 - h if y0 - h >= 0 else y0
    if y + h > height:
        y = max(0, height - h)
    draw.rectangle((x0, y, x0 + w - 1, y + h - 1), fill=colour)
    draw.text((x0 + 2 - left, y + 1 - top), text, fill=ink_for(colour), font=face)


def background_classes(label_names) -> list[int]:
    """The classes left clear: those named "background" or "__background__"."""
    return [i for i, name in enumerate(label_names)
            if str(name).strip().lower() in BACKGROUND_NAMES]


def draw_segmentation(frame: np.ndarray, segmentation, alpha: float = 0.5) -> np.ndarray:
    """``frame`` with ``segmentation.original_map`` blended in class colours (``alpha`` of
    the colour); background classes are left clear.  A map of another size than the frame
    is resized to it (nearest class)."""
    picture = _to_uint8(frame).copy()
    height, width = picture.shape[:2]
    classes = np.asarray(segmentation.original_map)
    if classes.shape != (height, width):
        classes = np.asarray(Image.fromarray(classes.astype(np.int32), mode="I").resize(
            (width, height), Image.Resampling.NEAREST))
    names = segmentation.label_names
    colours = np.array(class_colors(max(1, len(names))), np.float32)
    clear = np.isin(classes, background_classes(names))
    painted = ~clear
    if painted.any():
        tint = colours[classes[painted] % len(colours)]
        mixed = picture[painted].astype(np.float32) * (1.0 - alpha) + tint * alpha
        picture[painted] = (mixed + 0.5).astype(np.uint8)
    return _like(picture, frame)
