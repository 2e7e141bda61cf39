"""Synthetic digit scenes, the detection / segmentation metrics and the shipped scene models."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.models import digit_scenes as ds
from workbench.core.models import scene_metrics as sm

torch = pytest.importorskip("torch")


# --- the generator -----------------------------------------------------------------------


@pytest.mark.parametrize("style", ["default", "augment", "foreign"])
def test_scene_boxes_are_tight_and_masks_agree_with_labels(style):
    rng = np.random.default_rng(3)
    for _ in range(10):
        scene = ds.make_scene(rng, style=style)
        h, w = ds.SCENE_SIZE
        assert scene.image.shape == (h, w, 3) and scene.image.dtype == np.float32
        assert 0.0 <= scene.image.min() and scene.image.max() <= 1.0
        assert scene.mask.shape == (h, w)
        assert len(scene.boxes) == len(scene.labels) >= 1
        present = set(np.unique(scene.mask)) - {0}
        assert present <= {int(d) + 1 for d in scene.labels}
        for box in scene.boxes:
            x0, y0, x1, y1 = box.astype(int)
            assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
            assert 10 <= y1 - y0 <= 80  # digits about 24–64 px tall (ink a bit less, rotated more)
            # Tight: the digit's own ink touches all four edges of its box, and that ink is
            # in the mask (as this digit or as a later one drawn over it).
            inside = scene.mask[y0:y1, x0:x1] > 0
            assert inside[0].any() and inside[-1].any()
            assert inside[:, 0].any() and inside[:, -1].any()
        # Every pixel labelled with a digit lies inside a box of that digit.
        for d in present:
            ys, xs = np.nonzero(scene.mask == d)
            own = scene.boxes[scene.labels == d - 1]
            covered = np.zeros(len(ys), bool)
            for x0, y0, x1, y1 in own:
                covered |= (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
            assert covered.all()


def test_single_digit_box_is_exactly_its_ink():
    scene = ds.make_scene(np.random.default_rng(0), count=(1, 1))
    ys, xs = np.nonzero(scene.mask)
    assert scene.boxes[0].tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    assert set(np.unique(scene.mask)) == {0, int(scene.labels[0]) + 1}
    # Ink (bright pixels) lies only inside the box on a default-style dark canvas.
    x0, y0, x1, y1 = scene.boxes[0].astype(int)
    outside = scene.image[..., 0].copy()
    outside[y0:y1, x0:x1] = 0
    assert outside.max() < ds.INK_THRESHOLD


def test_scenes_are_reproducible_and_splits_differ(tmp_path):
    a, b = ds.make_scenes(3, 7), ds.make_scenes(3, 7)
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b, strict=True))
    held = ds.make_scenes(3, 7, split="held_out")
    assert not np.array_equal(a[0].image, held[0].image)
    path = tmp_path / "scene.png"
    ds.save_sample_scene(path, seed=1)
    from PIL import Image

    assert Image.open(path).size == (ds.SCENE_SIZE[1], ds.SCENE_SIZE[0])


# --- the metrics -------------------------------------------------------------------------


def _gt():
    return [{"boxes": np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), "labels": np.array([0, 1])},
            {"boxes": np.array([[5, 5, 15, 15]]), "labels": np.array([0])}]


def test_perfect_detector_has_ap_one():
    preds = [dict(g, scores=np.ones(len(g["labels"]))) for g in _gt()]
    result = sm.detection_map(preds, _gt(), num_classes=3)
    assert result["map"] == pytest.approx(1.0)
    assert result["per_class"] == [pytest.approx(1.0), pytest.approx(1.0), None]


def test_half_wrong_detector_hand_computed_ap():
    # Class 0 has two ground-truth boxes.  Detections by score: 0.9 TP, 0.8 FP (wrong place),
    # 0.7 TP.  Precision/recall: (1, .5), (.5, .5), (2/3, 1).  All-point interpolation:
    # AP = 0.5 * 1 + 0.5 * 2/3 = 5/6.
    preds = [{"boxes": np.array([[0, 0, 10, 10], [50, 50, 60, 60]]),
              "scores": np.array([0.9, 0.8]), "labels": np.array([0, 0])},
             {"boxes": np.array([[5, 5, 15, 14]]), "scores": np.array([0.7]),
              "labels": np.array([0])}]
    gts = [{"boxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0])},
           {"boxes": np.array([[5, 5, 15, 15]]), "labels": np.array([0])}]
    assert sm.detection_map(preds, gts, num_classes=1)["map"] == pytest.approx(5 / 6)
    # A duplicate of a matched box is a false positive; a box below IoU 0.5 is a miss.
    assert sm.average_precision([0.9, 0.8], [True, False], 1) == pytest.approx(1.0)
    assert sm.average_precision([0.9, 0.8], [False, True], 1) == pytest.approx(0.5)
    assert sm.match_image(np.array([[0, 0, 10, 10], [0, 0, 10, 10]]), np.array([0.9, 0.8]),
                          np.array([[0, 0, 10, 10]])).tolist() == [True, False]
    assert sm.box_iou([[0, 0, 10, 10]], [[5, 0, 15, 10]])[0, 0] == pytest.approx(1 / 3)


def test_miou_of_tiny_confusion():
    truth = np.array([[0, 0, 1, 1]])
    predicted = np.array([[0, 1, 1, 1]])
    confusion = sm.confusion_matrix(predicted, truth, 3)
    assert confusion.tolist() == [[1, 1, 0], [0, 2, 0], [0, 0, 0]]
    scores = sm.segmentation_scores(confusion)
    # IoU(0) = 1 / 2, IoU(1) = 2 / 3, class 2 absent everywhere → left out.
    assert scores["per_class_iou"] == [pytest.approx(0.5), pytest.approx(2 / 3), None]
    assert scores["miou"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert scores["pixel_accuracy"] == pytest.approx(0.75)


# --- the shipped models ------------------------------------------------------------------


def _load(module_name):
    import importlib

    from workbench.errors import ModelLoadError

    module = importlib.import_module(f"workbench.core.models.{module_name}")
    try:
        net, prep, labels, source = module.build_pretrained()
    except ModelLoadError as error:
        pytest.skip(f"shipped weights missing: {error}")
    return module, net, prep, labels, source


def _input(scenes, module):
    grey = np.stack([s.image[..., 0] for s in scenes])[:, None]
    return (torch.from_numpy(grey) - module.MEAN[0]) / module.STD[0]


@pytest.fixture(scope="module")
def held_out():
    return ds.make_scenes(20, 1000, "held_out", "default")


def test_detector_contract_and_accuracy(held_out):
    module, net, prep, labels, source = _load("digits_detector")
    assert prep["cam_layer"] == module.DEFAULT_CAM_LAYER in dict(net.named_modules())
    assert labels == [str(d) for d in range(10)] and not net.training and source
    with torch.no_grad():
        out = net(_input(held_out, module))
    assert isinstance(out, list) and len(out) == len(held_out)
    h, w = module.INPUT_SIZE
    for d in out:
        assert set(d) == {"boxes", "labels", "scores"}
        assert d["boxes"].shape == (len(d["scores"]), 4) and d["boxes"].dtype == torch.float32
        assert d["labels"].dtype == torch.int64 and len(d["labels"]) <= module.MAX_DETECTIONS
        assert ((d["labels"] >= 0) & (d["labels"] <= 9)).all()
        assert ((d["scores"] >= module.SCORE_FLOOR) & (d["scores"] <= 1)).all()
        assert (d["boxes"][:, 0::2] >= 0).all() and (d["boxes"][:, 0::2] <= w).all()
        assert (d["boxes"][:, 1::2] >= 0).all() and (d["boxes"][:, 1::2] <= h).all()
        assert (d["boxes"][:, 2:] >= d["boxes"][:, :2]).all()
    preds = [{k: v.numpy() for k, v in d.items()} for d in out]
    gts = [{"boxes": s.boxes, "labels": s.labels} for s in held_out]
    assert sm.detection_map(preds, gts)["map"] >= 0.8


def test_detector_scores_are_differentiable_and_any_stride_multiple_works(held_out):
    module, net, *_ = _load("digits_detector")
    x = _input(held_out[:1], module).requires_grad_(True)
    scores = net(x)[0]["scores"]
    assert scores.requires_grad and len(scores) > 0
    (grad,) = torch.autograd.grad(scores[0], x)
    assert grad.abs().sum() > 0
    with torch.no_grad():
        out = net(torch.zeros(2, 1, 96, 160))
    assert len(out) == 2 and all(d["boxes"].shape[1] == 4 for d in out)


def test_segmenter_contract_and_accuracy(held_out):
    module, net, prep, labels, _ = _load("digits_segmenter")
    assert labels == ["background"] + [str(d) for d in range(10)] == module.LABELS
    assert prep["cam_layer"] == module.DEFAULT_CAM_LAYER in dict(net.named_modules())
    with torch.no_grad():
        logits = net(_input(held_out, module))
    assert logits.shape == (20, 11, *module.INPUT_SIZE)
    truth = np.stack([s.mask for s in held_out])
    confusion = sm.confusion_matrix(logits.argmax(1).numpy(), truth, 11)
    assert sm.segmentation_scores(confusion)["miou"] >= 0.7
