"""Drawing detections and segmentations: a box lands on exactly its pixels (in the
original picture's coordinates), in its class's colour, with its tag; masks and class
maps are blended in class colours, the background left clear; float stays float."""

import numpy as np

from workbench.core.tasks.detection import Detections
from workbench.core.tasks.segmentation import Segmentation
from workbench.io.annotate import (
    background_classes,
    detection_caption,
    draw_detections,
    draw_segmentation,
    ink_for,
    pixel_box,
)
from workbench.io.palette import class_colors

NAMES = ["cat", "dog", "bird"]


def detections(boxes, labels, scores, input_size=(50, 80), image_size=(100, 160), masks=None):
    return Detections(np.array(boxes, np.float32), np.array(labels), np.array(scores,
                                                                              np.float32),
                      NAMES, input_size, image_size, 0.0, masks)


def test_a_box_is_drawn_on_its_original_pixels_in_its_class_colour():
    frame = np.zeros((100, 160, 3), np.float32)
    # input box [10, 20, 30, 40] in an 80×50 input → [20, 40, 60, 80] in the 160×100 frame
    dets = detections([[10, 20, 30, 40]], [1], [0.9])
    out = draw_detections(frame, dets, width=2)
    assert out.dtype == np.float32 and out.shape == frame.shape
    colour = np.array(class_colors(3)[1]) / 255.0
    px = (out * 255 + 0.5).astype(int)
    target = (colour * 255 + 0.5).astype(int)
    for y, x in ((60, 20), (60, 21), (60, 59), (60, 58), (79, 40), (78, 40), (40, 40), (41, 40)):
        assert (px[y, x] == target).all(), (y, x, px[y, x])  # the outline, 2 px inside
    for y, x in ((60, 19), (60, 60), (80, 40), (60, 22), (60, 57), (77, 40), (60, 40)):
        assert (px[y, x] == 0).all(), (y, x, px[y, x])  # outside it and inside it: clear
    assert (px[40:42, 20:60] == target).all()  # the top edge, whole
    tag = px[30:40, 20:60]
    assert (tag == target).all(axis=2).sum() > 50  # a filled tag above the box


def test_threshold_track_ids_and_uint8():
    frame = np.zeros((100, 160, 3), np.uint8)
    dets = detections([[10, 20, 30, 40], [50, 5, 70, 20]], [0, 2], [0.9, 0.3])
    out = draw_detections(frame, dets, track_ids=[7, 8], threshold=0.5)
    assert out.dtype == np.uint8
    assert out[:, 100:].max() == 0  # the second box scores below the threshold
    assert out[:, :100].max() > 0
    assert detection_caption("cat", 0.912, 7) == "cat 0.91 · #7"
    assert detection_caption("cat", 0.912, -1, show_score=False) == "cat"


def test_a_tag_at_the_top_edge_goes_inside_and_boxes_are_clipped():
    frame = np.zeros((100, 160, 3), np.uint8)
    out = draw_detections(frame, detections([[-10, 0, 20, 20]], [0], [0.8]))
    assert out[0:8, 2:20].any()  # the tag, inside the box at the top of the picture
    assert pixel_box([-10, 0, 20, 20], 100, 160) == (0, 0, 19, 19)
    assert pixel_box([170, 0, 180, 10], 100, 160) is None


def test_masks_are_blended_at_the_original_size():
    mask = np.zeros((1, 50, 80), np.float32)
    mask[0, 10:20, 40:60] = 1.0  # → rows 20–39, columns 80–119 of the frame
    frame = np.zeros((100, 160, 3), np.uint8)
    out = draw_detections(frame, detections([[0, 0, 80, 50]], [2], [0.9], masks=mask),
                          mask_alpha=0.5)
    colour = np.array(class_colors(3)[2])
    np.testing.assert_allclose(out[30, 100], colour * 0.5, atol=1)
    assert out[60, 100].max() == 0


def test_segmentation_colours_classes_and_leaves_the_background():
    names = ["__background__", "cat", "dog"]
    classes = np.zeros((10, 20), np.int64)
    classes[:, 10:] = 2
    classes[0, 0] = 1
    seg = Segmentation(classes[::2, ::2], classes, np.ones((5, 10), np.float32), names)
    frame = np.full((10, 20, 3), 0.5, np.float32)
    out = draw_segmentation(frame, seg, alpha=0.4)
    np.testing.assert_allclose(out[5, 2], 0.5, atol=1 / 255)  # background: clear
    colours = np.array(class_colors(3), np.float32) / 255.0
    np.testing.assert_allclose(out[5, 15], 0.6 * 0.5 + 0.4 * colours[2], atol=1 / 255)
    np.testing.assert_allclose(out[0, 0], 0.6 * 0.5 + 0.4 * colours[1], atol=1 / 255)
    bigger = draw_segmentation(np.zeros((20, 40, 3), np.uint8), seg, alpha=1.0)
    assert (bigger[10, 30] == class_colors(3)[2]).all()  # a map resized to the frame
    assert background_classes(["Background", "x"]) == [0]


def test_text_ink_contrasts():
    assert ink_for((255, 255, 0)) == (0, 0, 0)
    assert ink_for((31, 119, 180)) == (255, 255, 255)
