"""torchvision detection and segmentation models by name (DESIGN.md §7, §11).

Weights follow the classifier zoo (:mod:`workbench.core.models.torchvision_zoo`): cached
in the torch hub folder and loaded offline, downloaded only when asked, a clear message
naming the missing file otherwise; ``NAME:random`` builds without any weights.

The whole picture reaches a model squashed to one square working size (crop mode
``squash``), so a box maps back by a scale per axis.  A detector normalizes inside its
own ``transform`` (the wrapper passes pixels through: mean 0, std 1), whose resize is set
to that size so it does not resize a second time; a segmenter takes ImageNet-normalized
pixels and its ``"out"`` scores (the auxiliary head, used only in training, is dropped).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from workbench.core.jobs import JobContext, PlainContext
from workbench.core.models.task_outputs import DETECTION, SEGMENTATION
from workbench.errors import ModelLoadError, WeightsNotCachedError

SCORE_THRESHOLD = 0.05  # torchvision's default box score threshold: low boxes still come out
RESNET_FPN_CAM = "backbone.body.layer4"


@dataclass(frozen=True)
class DenseEntry:
    """One architecture: its task, default CAM layer (a backbone stage with a spatial
    output) and square working size in pixels."""

    name: str
    task: str
    cam_layer: str
    size: int


ENTRIES = {e.name: e for e in (
    DenseEntry("fasterrcnn_resnet50_fpn", DETECTION, RESNET_FPN_CAM, 512),
    DenseEntry("fasterrcnn_resnet50_fpn_v2", DETECTION, RESNET_FPN_CAM, 512),
    DenseEntry("fasterrcnn_mobilenet_v3_large_fpn", DETECTION, "backbone.body.16", 512),
    DenseEntry("fasterrcnn_mobilenet_v3_large_320_fpn", DETECTION, "backbone.body.16", 320),
    DenseEntry("retinanet_resnet50_fpn", DETECTION, RESNET_FPN_CAM, 512),
    DenseEntry("retinanet_resnet50_fpn_v2", DETECTION, RESNET_FPN_CAM, 512),
    DenseEntry("fcos_resnet50_fpn", DETECTION, RESNET_FPN_CAM, 512),
    DenseEntry("ssd300_vgg16", DETECTION, "backbone.extra.0", 300),  # fc7, 19×19
    DenseEntry("ssdlite320_mobilenet_v3_large", DETECTION, "backbone.features.1", 320),
    DenseEntry("maskrcnn_resnet50_fpn", DETECTION, RESNET_FPN_CAM, 512),
    DenseEntry("maskrcnn_resnet50_fpn_v2", DETECTION, RESNET_FPN_CAM, 512),
    DenseEntry("keypointrcnn_resnet50_fpn", DETECTION, RESNET_FPN_CAM, 512),
    DenseEntry("fcn_resnet50", SEGMENTATION, "backbone.layer4", 520),
    DenseEntry("fcn_resnet101", SEGMENTATION, "backbone.layer4", 520),
    DenseEntry("deeplabv3_resnet50", SEGMENTATION, "backbone.layer4", 520),
    DenseEntry("deeplabv3_resnet101", SEGMENTATION, "backbone.layer4", 520),
    DenseEntry("deeplabv3_mobilenet_v3_large", SEGMENTATION, "backbone.16", 520),
    DenseEntry("lraspp_mobilenet_v3_large", SEGMENTATION, "backbone.16", 520),
)}
# the working size of each model; tests put smaller ones here
INPUT_SIZES = {name: e.size for name, e in ENTRIES.items()}
# builders that use frozen batch norm (eps 1e-5) in the backbone once trained from weights
FROZEN_WHEN_TRAINED = frozenset({
    "fasterrcnn_resnet50_fpn", "fasterrcnn_mobilenet_v3_large_fpn",
    "fasterrcnn_mobilenet_v3_large_320_fpn", "retinanet_resnet50_fpn", "fcos_resnet50_fpn",
    "maskrcnn_resnet50_fpn", "keypointrcnn_resnet50_fpn"})
# parameters whose first dimension counts the classes (times the anchors per position)
CLASS_PARAMS = ("roi_heads.box_predictor.cls_score.", "head.classification_head.cls_logits.",
                "head.classification_head.module_list.0.", "classifier.4.",
                "classifier.low_classifier.")
KEYPOINT_PARAM = "roi_heads.keypoint_predictor.kps_score_lowres.weight"
_LOAD_LOCK = threading.Lock()


def is_dense(name: str | None) -> bool:
    return name in ENTRIES


def names_and_tasks() -> list[tuple[str, str]]:
    return [(e.name, e.task) for e in ENTRIES.values()]


def default_weights(name: str):
    from torchvision import models

    return models.get_model_weights(name).DEFAULT


def input_size(name: str) -> tuple[int, int]:
    return INPUT_SIZES[name], INPUT_SIZES[name]


def build(name: str, pretrained: bool, download: bool, ctx: JobContext | None = None):
    """``(net, prep, labels, source, kind)`` of ``name`` (the registry's contract)."""
    from workbench.core.models import torchvision_zoo

    ctx = ctx or PlainContext()
    weights = default_weights(name)
    if pretrained:
        path = torchvision_zoo.cached_weights_file(name)
        if not path.is_file():
            if not download:
                raise WeightsNotCachedError(
                    f"Pretrained weights for {name} are not cached: {path} is missing. "
                    "Ask to download them (GUI: Download; CLI: --download), or use "
                    f"'{name}:random' for random weights")
            torchvision_zoo._download(weights.url, path, ctx)
        net = _pretrained_net(name, weights, path)
        source = f"torchvision {name}, weights {weights}"
    else:
        net = random_net(name, len(weights.meta["categories"]))
        source = f"torchvision {name}, random weights"
    size = input_size(name)
    finish_net(net, size)
    return net, dense_prep(name, size, weights), list(weights.meta["categories"]), source, "image"


def dense_prep(name: str, size: tuple[int, int], weights=None) -> dict:
    """The wrapper's preprocessing, task, output and default CAM layer of ``name``."""
    entry = ENTRIES[name]
    prep = {"input_size": size, "task": entry.task, "cam_layer": entry.cam_layer,
            "extras": {"crop_mode": "squash"}}
    if entry.task == DETECTION:  # the detector's own transform normalizes
        return {**prep, "mean": (0.0, 0.0, 0.0), "std": (1.0, 1.0, 1.0)}
    transforms = (weights or default_weights(name)).transforms()
    return {**prep, "mean": tuple(transforms.mean), "std": tuple(transforms.std),
            "output": "out"}


def random_net(name: str, num_classes: int, **options):
    """The architecture with random weights and no backbone weights (nothing downloads)."""
    from torchvision import models

    return models.get_model(name, weights=None, weights_backbone=None,
                            num_classes=num_classes, **options)


def _pretrained_net(name: str, weights, path):
    """Build ``name`` as torchvision's builder does with its weights (frozen batch norm,
    epsilons, auxiliary head), reading the cached file with ``weights_only=True``."""
    import torch
    from torchvision.models import _api, get_model

    def load(url, *_args, **_kwargs):
        if url != weights.url:
            raise ModelLoadError(f"{name} asked for other weights too ({url})")
        return torch.load(path, map_location="cpu", weights_only=True)

    with _LOAD_LOCK:
        original = _api.load_state_dict_from_url
        _api.load_state_dict_from_url = load
        try:
            return get_model(name, weights=weights)
        except ModelLoadError:
            raise
        except Exception as exc:
            raise ModelLoadError(
                f"Cached weights file {path} is damaged ({_first_line(exc)}); delete it"
            ) from exc
        finally:
            _api.load_state_dict_from_url = original


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def finish_net(net, size: tuple[int, int]) -> None:
    """Make a built net fit the app: a detector's resize becomes the identity at ``size``
    and its score threshold at most :data:`SCORE_THRESHOLD`; a segmenter's auxiliary head
    goes."""
    transform = getattr(net, "transform", None)
    if transform is not None:
        h, w = size
        transform.min_size = (min(h, w),)
        transform.max_size = max(h, w)
        if transform.fixed_size is not None:  # SSD: (w, h)
            transform.fixed_size = (w, h)
        set_score_threshold(net, min(score_threshold(net), SCORE_THRESHOLD))
    if getattr(net, "aux_classifier", None) is not None:
        net.aux_classifier = None


def _threshold_holder(net):
    return net.roi_heads if hasattr(net, "roi_heads") else net


def score_threshold(net) -> float:
    return float(_threshold_holder(net).score_thresh)


def set_score_threshold(net, value: float) -> None:
    """The score under which a detector drops a box (R-CNN: its ROI heads; RetinaNet,
    FCOS, SSD: the model)."""
    _threshold_holder(net).score_thresh = float(value)


def freeze_norms(net) -> None:
    """Turn the backbone's batch norms into torchvision's frozen ones (eps 1e-5), as its
    builders do for a model trained from weights (a fine-tuned checkpoint's layout)."""
    from torch import nn
    from torchvision.ops import FrozenBatchNorm2d

    body = net.backbone.body
    for name, module in list(body.named_modules()):
        if isinstance(module, nn.BatchNorm2d):
            parent, _, leaf = name.rpartition(".")
            setattr(body.get_submodule(parent) if parent else body, leaf,
                    FrozenBatchNorm2d(module.num_features))


def net_from_state(state: dict, path, options):
    """``(net, hints)`` of a user's state dict for a dense architecture (``--arch``): the
    classes (and keypoints) counted from the file unless ``--num-classes`` says; hints hold
    the prep, the task and labels (the weights' own when the class count matches)."""
    from workbench.core.models.checkpoint import _describe_mismatch, fit_keys, square_or_pair

    name = options.arch
    weights = default_weights(name)
    categories = list(weights.meta["categories"])
    net = _checkpoint_net(name, len(categories), state)
    state = fit_keys(state, net.state_dict())
    classes = options.num_classes or _classes_in(state, net.state_dict(), len(categories))
    if classes != len(categories):
        net = _checkpoint_net(name, classes, state)
    problems = _describe_mismatch(*(_no_counters(d) for d in (net.state_dict(), state)))
    if problems:
        raise ModelLoadError(f"State dict '{path}' does not fit {name}: {problems}")
    net.load_state_dict(state)
    options.num_classes = classes
    size = square_or_pair(options.input_size) if options.input_size else input_size(name)
    finish_net(net, size)
    hints = dense_prep(name, size, weights)
    if classes == len(categories):
        labels = categories
    elif ENTRIES[name].task == DETECTION:
        labels = ["__background__"] + [f"class {i}" for i in range(1, classes)]
    else:
        labels = []
    return net, {**hints, "labels": labels}


def _checkpoint_net(name: str, num_classes: int, state: dict):
    options = {}
    if any(k.startswith("aux_classifier.") for k in state):
        options["aux_loss"] = True
    if _keypoints_in(state):
        options["num_keypoints"] = _keypoints_in(state)
    net = random_net(name, num_classes, **options)
    if name in FROZEN_WHEN_TRAINED:
        freeze_norms(net)
    return net


def _keypoints_in(state: dict) -> int | None:
    weight = state.get(KEYPOINT_PARAM)
    return int(weight.shape[1]) if weight is not None else None


def _classes_in(state: dict, own: dict, built: int) -> int:
    """The classes of the file: its class layer's outputs over the built net's, times the
    classes it was built with (the anchors per position cancel)."""
    keys = [k for k in own if k.startswith(CLASS_PARAMS) and k.endswith("weight")]
    key = keys[-1] if keys else None
    if key is None or key not in state or own[key].shape[0] == 0:
        return built
    return int(state[key].shape[0] * built // own[key].shape[0])


def _no_counters(state: dict) -> dict:
    """Batch norm's ``num_batches_tracked`` counters matter to training only (frozen and
    plain batch norm differ by them)."""
    return {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
