"""torchvision detectors and segmenters by name: random weights, the cached-weights file
offline, a user's state dict with ``--arch``, and targets running CAMs through them.

Models are built at a small working size (128 px; SSD300 needs its 300) with fewer RPN
proposals, so the file runs in about a minute on two cores.  The heavier ResNet-50 /
ResNet-101 and VGG models run only with ``WORKBENCH_SLOW_TESTS=1``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from workbench.core.models import load_model, parse_spec
from workbench.core.models import torchvision_dense as dense
from workbench.core.models.checkpoint import CheckpointOptions
from workbench.core.tasks.detection import detect
from workbench.core.tasks.segmentation import segment
from workbench.errors import ModelLoadError, WeightsNotCachedError

SIZE = 128
FAST = ("fasterrcnn_mobilenet_v3_large_320_fpn", "ssdlite320_mobilenet_v3_large",
        "maskrcnn_resnet50_fpn", "lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large",
        "fcn_resnet50")
SLOW = pytest.mark.skipif(not os.environ.get("WORKBENCH_SLOW_TESTS"),
                          reason="heavy model: set WORKBENCH_SLOW_TESTS=1")
ALL = [name if name in FAST else pytest.param(name, marks=SLOW) for name in dense.ENTRIES]
LIGHT_DETECTOR = "fasterrcnn_mobilenet_v3_large_320_fpn"
FINISH_NET = dense.finish_net  # before the test override


def lighter(finish):
    """Test-only: every box comes out (score threshold 0: random weights score ~1/91) and
    R-CNN models keep 100 proposals and 20 detections."""
    def finish_net(net, size):
        finish(net, size)
        if hasattr(net, "transform"):
            dense.set_score_threshold(net, 0.0)
        if hasattr(net, "rpn"):
            net.rpn._pre_nms_top_n["testing"] = net.rpn._post_nms_top_n["testing"] = 100
            net.roi_heads.detections_per_img = 20
    return finish_net


@pytest.fixture(scope="module")
def small():
    """A function loading ``NAME:random`` (or any spec) small, each once."""
    cache = {}
    with pytest.MonkeyPatch.context() as patch:
        for name in dense.ENTRIES:
            patch.setitem(dense.INPUT_SIZES, name, 300 if name == "ssd300_vgg16" else SIZE)
        patch.setattr(dense, "finish_net", lighter(dense.finish_net))

        def get(spec, **options):
            if options:
                return load_model(spec, **options)
            if spec not in cache:
                cache[spec] = load_model(spec)
            return cache[spec]

        yield get


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    return tmp_path / "hub"


@pytest.fixture(scope="module")
def astronaut():
    from workbench.io.images import load_image
    from workbench.io.samples import sample_path

    return load_image(sample_path("astronaut"))


def check_detections(model, image):
    found = detect(model, image, threshold=0.0)
    assert len(found) > 0
    h, w = model.input_size
    assert (found.boxes >= -1e-3).all() and (found.boxes[:, [0, 2]] <= w + 1e-3).all()
    assert (found.boxes[:, [1, 3]] <= h + 1e-3).all()
    big = found.original_boxes()
    assert (big[:, [0, 2]] <= image.shape[1] + 1e-2).all()
    assert (big[:, [1, 3]] <= image.shape[0] + 1e-2).all()
    return found


@pytest.mark.parametrize("name", ALL)
def test_every_model_loads_with_its_task_labels_and_cam_layer(small, astronaut, name):
    model = small(f"{name}:random")
    entry = dense.ENTRIES[name]
    assert model.task == entry.task and model.extras["crop_mode"] == "squash"
    assert model.default_cam_layer == entry.cam_layer
    assert model.layer_info(model.default_cam_layer).is_spatial
    if entry.task == "detection":
        if name.startswith("keypoint"):
            assert model.labels == ["no person", "person"]
        else:
            assert len(model.labels) == 91 and model.labels[1] == "person"
            assert model.labels.count("N/A") == 10  # kept, so indices are COCO's ids
        found = check_detections(model, astronaut)
        if name.startswith("maskrcnn"):
            assert found.masks.shape == (len(found), *model.input_size)
        if name.startswith("keypoint"):
            assert found.keypoints.shape == (len(found), 17, 3)
    else:
        assert len(model.labels) == 21 and model.labels[15] == "person"
        seg = segment(model, astronaut)
        assert seg.original_map.shape == astronaut.shape[:2]
        assert seg.class_map.shape == model.input_size and seg.class_map.max() < 21


def test_production_settings_without_the_test_override():
    assert dense.ENTRIES[LIGHT_DETECTOR].size == 320
    net = dense.random_net(LIGHT_DETECTOR, 91)
    FINISH_NET(net, (320, 320))
    assert net.transform.min_size == (320,) and net.transform.max_size == 320
    assert dense.score_threshold(net) == pytest.approx(0.05)
    ssd = dense.random_net("ssdlite320_mobilenet_v3_large", 91)
    FINISH_NET(ssd, (320, 320))
    assert dense.score_threshold(ssd) == pytest.approx(0.001)  # its own, lower, stays
    spec = parse_spec("fcn_resnet50:random:3")
    assert (spec.family, spec.pretrained, spec.seed) == ("torchvision_dense", False, 3)


def test_gradcam_and_eigencam_through_a_detection_target(small, astronaut):
    from workbench.core.attribution import attribute
    from workbench.core.preprocess import model_input
    from workbench.core.tasks.targets import DetectionTarget, scored_model

    model = small(f"{LIGHT_DETECTOR}:random")
    found = detect(model, astronaut, threshold=0.0)
    label = int(found.labels[0])
    target = DetectionTarget(tuple(float(v) for v in found.boxes[0]), label, threshold=0.0)
    scored = scored_model(model, target)
    x = model_input(model, astronaut)
    with torch.no_grad():
        score = torch.sigmoid(scored.module(x))[0, label]
    assert float(score) == pytest.approx(float(found.scores[0]), abs=1e-5)
    for method in ("gradcam", "eigencam"):
        cam = attribute(scored, x, method, targets=[label]).maps[0]
        assert tuple(cam.shape) == model.input_size and torch.isfinite(cam).all()


def test_gradcam_through_a_region_target(small, astronaut):
    from workbench.core.attribution import attribute
    from workbench.core.preprocess import model_input
    from workbench.core.tasks.targets import RegionTarget, scored_model

    model = small("lraspp_mobilenet_v3_large:random")
    label = int(np.bincount(segment(model, astronaut).class_map.ravel()).argmax())
    x = model_input(model, astronaut)
    scored = scored_model(model, RegionTarget(label), x)
    cam = attribute(scored, x, "gradcam", targets=[label]).maps[0]
    assert tuple(cam.shape) == model.input_size and torch.isfinite(cam).all()


@pytest.mark.parametrize("name, file, options", [
    (LIGHT_DETECTOR, "fasterrcnn_mobilenet_v3_large_320_fpn-907ea3f9.pth", {}),
    ("deeplabv3_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large-fc3c493d.pth",
     {"aux_loss": True}),  # its weights hold the auxiliary head; the app drops it
])
def test_cached_weights_load_offline(small, empty_hub, name, file, options):
    from torchvision.ops import FrozenBatchNorm2d

    classes = len(dense.default_weights(name).meta["categories"])
    state = dense.random_net(name, classes, **options).state_dict()
    path = empty_hub / "checkpoints" / file
    path.parent.mkdir(parents=True)
    torch.save(state, path)
    model = small(name, download=False)
    assert "COCO" in model.source and model.task == dense.ENTRIES[name].task
    own = model.module.net.state_dict()
    key = next(k for k in own if k.endswith(".weight") and own[k].ndim == 4)
    torch.testing.assert_close(own[key], state[key])
    if name == LIGHT_DETECTOR:  # built as torchvision builds it with weights
        assert any(isinstance(m, FrozenBatchNorm2d) for m in model.module.modules())
    else:
        assert model.module.net.aux_classifier is None


def test_missing_or_damaged_weights_say_which_file(empty_hub):
    with pytest.raises(WeightsNotCachedError) as info:
        load_model("fcn_resnet50")
    text = str(info.value)
    assert "fcn_resnet50_coco-1167a1af.pth" in text and str(empty_hub) in text
    assert "--download" in text and "fcn_resnet50:random" in text
    path = empty_hub / "checkpoints" / "lraspp_mobilenet_v3_large-d234d4ea.pth"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelLoadError, match="damaged"):
        load_model("lraspp_mobilenet_v3_large")


def test_listing_names_the_task():
    from workbench.core.models.registry import dense_listings

    rows = {row.name: row for row in dense_listings()}
    assert set(rows) == set(dense.ENTRIES)
    assert "detection" in rows["maskrcnn_resnet50_fpn"].description
    assert "segmentation" in rows["fcn_resnet50"].description
    assert rows["fcn_resnet50"].weights.endswith("fcn_resnet50_coco-1167a1af.pth")


@pytest.mark.parametrize("num_classes", [5, None])
def test_state_dict_with_arch_loads_as_a_detector(small, astronaut, tmp_path, num_classes):
    state = dense.random_net(LIGHT_DETECTOR, 5).state_dict()
    path = tmp_path / "detector.pth"
    torch.save({"model": {f"module.{k}": v for k, v in state.items()}}, path)
    options = CheckpointOptions(arch=LIGHT_DETECTOR, num_classes=num_classes)
    model = small(str(path), checkpoint=options)
    assert model.task == "detection" and model.input_size == (SIZE, SIZE)
    assert model.labels == ["__background__", "class 1", "class 2", "class 3", "class 4"]
    assert model.default_cam_layer == "backbone.body.16"
    key = "roi_heads.box_predictor.cls_score.weight"
    torch.testing.assert_close(model.module.net.state_dict()[key], state[key])
    found = check_detections(model, astronaut)
    assert found.labels.max() < 5
