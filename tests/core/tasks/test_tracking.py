"""Box identities across frames on synthetic moving boxes: stable ids through a crossing
of two boxes of different classes, a new object gets a new id, a short miss is bridged,
a long one is not."""

import numpy as np

from workbench.core.tasks.detection import Detections
from workbench.core.tasks.tracking import IoUTracker, iou_matrix, track_detections


def box(x, y, side=20):
    return [x, y, x + side, y + side]


def test_iou_matrix():
    iou = iou_matrix([[0, 0, 10, 10]], [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    np.testing.assert_allclose(iou, [[1.0, 50 / 150, 0.0]])


def test_ids_survive_a_crossing_of_two_classes():
    tracker = IoUTracker()
    history = []
    for t in range(30):  # A moves right, B moves left on the same row: they cross at t≈15
        a, b = box(10 + 4 * t, 50), box(130 - 4 * t, 52)
        ids = tracker.update([a, b], [0, 1])
        history.append(ids)
    assert all(list(ids) == [1, 2] for ids in history)


def test_same_class_crossing_follows_the_motion():
    tracker = IoUTracker()
    ids = [tracker.update([box(10 + 5 * t, 50), box(150 - 5 * t, 54)], [0, 0])
           for t in range(28)]
    # the order of the input changes nothing: each box keeps the id its motion predicts
    assert all(list(i) == [1, 2] for i in ids)


def test_new_objects_get_new_ids_and_misses_are_bridged():
    tracker = IoUTracker(max_missed=3)
    assert list(tracker.update([box(0, 0)], [0])) == [1]
    assert list(tracker.update([box(2, 0), box(100, 100)], [0, 1])) == [1, 2]
    for _ in range(2):  # the first object is missed twice
        assert list(tracker.update([box(100, 100)], [1])) == [2]
    assert list(tracker.update([box(8, 0), box(100, 100)], [0, 1])) == [1, 2]
    for _ in range(4):  # gone for longer than max_missed
        tracker.update([box(100, 100)], [1])
    assert list(tracker.update([box(8, 0)], [0])) == [3]


def test_a_different_class_in_the_same_place_is_a_new_object():
    tracker = IoUTracker()
    tracker.update([box(0, 0)], [0])
    assert list(tracker.update([box(0, 0)], [4])) == [2]


def test_track_detections_over_frames_with_a_threshold():
    def frame(x, scores):
        boxes = np.array([box(x, 0), box(60, 60)], np.float32)
        return Detections(boxes, np.array([0, 1]), np.array(scores, np.float32), ["a", "b"],
                          (100, 100), (200, 200))

    ids = track_detections([frame(0, [0.9, 0.2]), frame(3, [0.9, 0.8]), frame(6, [0.9, 0.8])],
                           threshold=0.5)
    assert [list(i) for i in ids] == [[1, -1], [1, 2], [1, 2]]
