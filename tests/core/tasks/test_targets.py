"""Detection and region targets (DESIGN.md §11) against hand computations, and every
method family running through them unchanged: CAMs, input gradients, occlusion, attacks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.core.tasks.toys import BOXES, SIZE, toy_detector, toy_segmenter
from workbench.core.tasks.targets import (
    NOTHING,
    DetectionScores,
    DetectionTarget,
    RegionTarget,
    scored_model,
)
from workbench.errors import InputError


def detections(*rows):
    boxes, labels, scores = zip(*rows, strict=True)
    return {"boxes": torch.tensor(boxes, dtype=torch.float32),
            "labels": torch.tensor(labels), "scores": torch.tensor(scores)}


def test_box_score_is_the_best_iou_matched_score_per_class():
    target = DetectionTarget((0, 0, 10, 10), label=1, min_iou=0.5, threshold=0.3)
    head = DetectionScores(target, num_classes=3)
    out = [detections(((0, 0, 10, 10), 1, 0.9),   # IoU 1
                      ((0, 0, 10, 8), 1, 0.95),   # IoU 0.8: the best score of class 1
                      ((0, 0, 10, 4), 2, 0.99),   # IoU 0.4: not matched
                      ((1, 1, 11, 11), 0, 0.6))]  # IoU 81 / 119 = 0.68
    probs = torch.sigmoid(head(out))[0]
    torch.testing.assert_close(probs[:3], torch.tensor([0.6, 0.95, 1e-6]), atol=1e-6, rtol=0)
    assert float(probs[3]) == pytest.approx(0.3)  # the "nothing" column sits at the threshold

    with_iou = DetectionScores(DetectionTarget((0, 0, 10, 10), 1, iou_term=True), 3)
    probs = torch.sigmoid(with_iou(out))[0]
    assert float(probs[1]) == pytest.approx(max((0.9 + 1) / 2, (0.95 + 0.8) / 2))
    assert float(probs[0]) == pytest.approx((0.6 + 81 / 119) / 2)


def test_scored_detector_predicts_the_matched_score_and_its_gradient_reaches_the_input():
    model = toy_detector()
    x = torch.rand(1, 3, *SIZE, generator=torch.Generator().manual_seed(0))
    target = DetectionTarget(tuple(BOXES[1].tolist()), label=1)
    scored = scored_model(model, target)
    assert scored.labels[-1] == NOTHING and scored.multi_label and scored.is_classifier
    box = x[0, 1, 8:28, 24:44]
    # the 3×3 mean filter of channel 1 over the box, by hand (zero padding at the border)
    padded = torch.nn.functional.pad(x[0, 1], (1, 1, 1, 1))
    filtered = sum(padded[dy:dy + SIZE[0], dx:dx + SIZE[1]] for dy in range(3)
                   for dx in range(3)) / 9
    expected = torch.sigmoid(4 * filtered[8:28, 24:44].mean() - 1)
    from workbench.core.predict import probabilities

    with torch.no_grad():
        got = probabilities(scored, scored.module(x))[0, 1]
    assert float(got) == pytest.approx(float(expected), abs=1e-6)
    assert box.shape == (20, 20)

    from workbench.core.attribution import attribute

    saliency = attribute(scored, x, "saliency", targets=[1]).maps[0]
    inside = saliency[7:29, 23:45].sum()
    assert float(inside) == pytest.approx(float(saliency.sum()), rel=1e-6)  # only its box
    cam = attribute(scored, x, "gradcam", targets=[1]).maps[0]
    assert cam.shape == SIZE and torch.isfinite(cam).all()


def test_occlusion_of_a_detection_equals_a_brute_force_loop():
    from workbench.core.occlusion.sliding import OcclusionParams, occlusion_map

    model = toy_detector()
    x = torch.rand(1, 3, *SIZE, generator=torch.Generator().manual_seed(1))
    target = DetectionTarget(tuple(BOXES[0].tolist()), label=0)
    scored = scored_model(model, target)
    params = OcclusionParams(window=8, stride=8)
    result = occlusion_map(scored, x, fill="grey", target=0, params=params)
    (det,) = model.module(x)
    base = float(det["scores"][0])
    assert float(result.base_probs[0]) == pytest.approx(base, abs=1e-6)
    rows, cols = result.drop.shape
    for i in range(rows):
        for j in range(cols):
            hidden = x.clone()
            hidden[..., i * 8:i * 8 + 8, j * 8:j * 8 + 8] = 0.5
            (det,) = model.module(hidden)
            assert float(result.drop[i, j]) == pytest.approx(base - float(det["scores"][0]),
                                                            abs=1e-5)


def test_vanish_attack_pushes_the_detection_below_the_threshold():
    from workbench.core.adversarial import attack

    model = toy_detector()
    x = torch.full((1, 3, *SIZE), 0.35)  # score sigmoid(0.4) = 0.6; 32 grey levels lower: 0.475
    target = DetectionTarget(tuple(BOXES[1].tolist()), label=1, threshold=0.5)
    scored = scored_model(model, target)
    (det,) = model.module(x)
    assert float(det["scores"][1]) > 0.5
    result = attack(scored, x, "pgd", labels=[1], params={"eps": 32 / 255, "steps": 20})
    (after,) = model.module(result.adversarial)
    assert float(after["scores"][1]) < 0.5 and float(result.linf[0]) <= 32 / 255 + 1e-6
    assert float(result.probs_after[0, 1]) == pytest.approx(float(after["scores"][1]), abs=1e-5)


def test_region_target_is_the_mean_logit_over_the_region():
    model = toy_segmenter()
    x = torch.rand(1, 3, *SIZE, generator=torch.Generator().manual_seed(2))
    mask = np.zeros(SIZE, dtype=bool)
    mask[5:15, 10:30] = True
    scored = scored_model(model, RegionTarget(2, mask))
    with torch.no_grad():
        logits = model.module(x)
        got = scored.module(x)
    expected = logits[0][:, torch.from_numpy(mask)].mean(1)
    torch.testing.assert_close(got[0], expected)
    predicted = scored_model(model, RegionTarget(int(logits[0].argmax(0)[0, 0]), None), x)
    region = predicted.module.head.mask.bool()
    assert torch.equal(region, logits[0].argmax(0) == logits[0].argmax(0)[0, 0])

    from workbench.core.attribution import attribute

    saliency = attribute(scored, x, "saliency", targets=[2]).maps[0]
    outside = saliency.clone()
    outside[4:16, 9:31] = 0  # the region grown by the 3×3 kernel's reach
    assert float(outside.abs().sum()) == 0 and float(saliency.sum()) > 0


def test_wrong_targets_are_clear_errors():
    detector, segmenter = toy_detector(), toy_segmenter()
    with pytest.raises(InputError, match="detector"):
        scored_model(detector, RegionTarget(0))
    with pytest.raises(InputError, match="segmenter"):
        scored_model(segmenter, DetectionTarget((0, 0, 1, 1), 0))
    with pytest.raises(InputError, match="outside"):
        scored_model(detector, DetectionTarget((0, 0, 1, 1), 7))
    with pytest.raises(InputError, match="empty"):
        scored_model(segmenter, RegionTarget(0, np.zeros(SIZE, dtype=bool)))
    with pytest.raises(InputError, match="model input"):
        scored_model(segmenter, RegionTarget(0, np.ones((4, 4), dtype=bool)))
