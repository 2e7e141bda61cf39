"""Train the built-in ``digits_detector`` and ``digits_segmenter`` on synthetic digit scenes.

Run ``python -m workbench.core.models.train_digits_scenes [--only detector|segmenter]
[--epochs N] [--minutes M]``.  Training scenes are drawn on the fly from the train
split's digits (30 % default rendering, 70 % randomly augmented: upscaling mode, blur,
stroke thickness, rotation, brightness / contrast, noise); an "epoch" is 100 batches of 32
fresh scenes.  Each model stops at its epochs or its time budget, whichever comes first
(the cosine learning-rate schedule follows the larger of the two progress fractions).
Writes ``resources/models/digits_detector.pt``, ``digits_segmenter.pt`` (state dicts) and
``digits_scenes.json`` (held-out and foreign-style metrics, settings, times).
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch
from torch.nn import functional as F

from workbench.core.models import digit_scenes as ds
from workbench.core.models import digits_detector as det
from workbench.core.models import digits_segmenter as seg
from workbench.core.models import scene_metrics
from workbench.resources import resource_path

SEED = 0
BATCH = 32
STEPS_PER_EPOCH = 100
EVAL_SCENES = 300
META_NAME = "digits_scenes.json"


def scenes_meta() -> dict:
    """The metrics file written by training ({} if absent)."""
    path = resource_path("models", META_NAME)
    return json.loads(path.read_text()) if path.is_file() else {}


def to_input(scenes, mean=det.MEAN, std=det.STD) -> torch.Tensor:
    """Scenes → normalized ``(N, 1, H, W)`` grey input."""
    grey = np.stack([s.image[..., 0] for s in scenes])[:, None]
    return (torch.from_numpy(grey) - mean[0]) / std[0]


def training_batch(rng, n: int = BATCH):
    digits = ds.split_digits("train")
    return [ds.make_scene(rng, digits=digits, style="default" if rng.random() < 0.3 else "augment")
            for _ in range(n)]


def detector_targets(scenes, grid_hw, stride: int = det.STRIDE) -> dict:
    """CenterNet targets: Gaussian centre heat maps, log box sizes and offsets at centres."""
    gh, gw = grid_hw
    n = len(scenes)
    heat = np.zeros((n, det.NUM_CLASSES, gh, gw), np.float32)
    size = np.zeros((n, 2, gh, gw), np.float32)
    offset = np.zeros((n, 2, gh, gw), np.float32)
    centre = np.zeros((n, 1, gh, gw), np.float32)
    ys, xs = np.mgrid[0:gh, 0:gw]
    for i, scene in enumerate(scenes):
        for box, label in zip(scene.boxes, scene.labels, strict=True):
            w, h = box[2] - box[0], box[3] - box[1]
            cx, cy = (box[0] + box[2]) / 2 / stride, (box[1] + box[3]) / 2 / stride
            sigma = max(0.7, min(w, h) / stride / 6)
            g = np.exp(-((xs + 0.5 - cx) ** 2 + (ys + 0.5 - cy) ** 2) / (2 * sigma**2))
            ix, iy = min(int(cx), gw - 1), min(int(cy), gh - 1)
            g[iy, ix] = 1.0
            heat[i, label] = np.maximum(heat[i, label], g)
            size[i, :, iy, ix] = np.log([w, h])
            offset[i, :, iy, ix] = [cx - ix, cy - iy]
            centre[i, 0, iy, ix] = 1.0
    return {k: torch.from_numpy(v) for k, v in
            {"heat": heat, "size": size, "offset": offset, "centre": centre}.items()}


def focal_loss(logits, target):
    """CenterNet's penalty-reduced pixel-wise focal loss (α = 2, β = 4)."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = target.eq(1).float()
    pos_loss = -(torch.log(p) * (1 - p) ** 2 * pos).sum()
    neg_loss = -(torch.log(1 - p) * p**2 * (1 - target) ** 4 * (1 - pos)).sum()
    return (pos_loss + neg_loss) / pos.sum().clamp(min=1)


def detector_loss(maps, targets):
    centre = targets["centre"]
    count = centre.sum().clamp(min=1)
    size = (F.l1_loss(maps["size"], targets["size"], reduction="none") * centre).sum() / count
    # The decoder adds the offset to the cell index, in cells; cells are stride px.
    offset = (F.l1_loss(maps["offset"], targets["offset"], reduction="none") * centre).sum()
    return focal_loss(maps["heatmap"], targets["heat"]) + size + offset / count


def segmenter_loss(logits, scenes):
    masks = torch.from_numpy(np.stack([s.mask for s in scenes]))
    return F.cross_entropy(logits, masks)


def train_model(name: str, epochs: int, minutes: float, log=print):
    """Train one model with Adam and a cosine schedule; returns ``(net, settings)``."""
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED + (0 if name == "detector" else 1))
    net = det.DigitsDetector() if name == "detector" else seg.DigitsSegmenter()
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    total, budget, start, step = epochs * STEPS_PER_EPOCH, minutes * 60, time.time(), 0
    running = None
    while True:
        progress = max(step / total, (time.time() - start) / budget)
        if progress >= 1:
            break
        for group in optimizer.param_groups:
            group["lr"] = 3e-3 * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))
        scenes = training_batch(rng)
        net.train()
        out = net(to_input(scenes))
        if name == "detector":
            loss = detector_loss(out, detector_targets(scenes, out["heatmap"].shape[-2:]))
        else:
            loss = segmenter_loss(out, scenes)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        step += 1
        if step % 50 == 0:
            log(f"{name} step {step} loss {running:.4f} {time.time() - start:.0f}s")
    settings = {"steps": step, "batch": BATCH, "seconds": round(time.time() - start, 1),
                "epochs_requested": epochs, "minutes_budget": minutes, "optimizer": "AdamW 3e-3",
                "schedule": "cosine", "seed": SEED}
    return net.eval(), settings


def detect(net, scenes, batch: int = 50) -> list[dict]:
    out = []
    with torch.no_grad():
        for i in range(0, len(scenes), batch):
            for d in net(to_input(scenes[i:i + batch])):
                out.append({k: v.numpy() for k, v in d.items()})
    return out


def evaluate_detector(net, scenes) -> dict:
    gts = [{"boxes": s.boxes, "labels": s.labels} for s in scenes]
    result = scene_metrics.detection_map(detect(net, scenes), gts)
    return {"map50": result["map"], "per_class_ap50": result["per_class"], "scenes": len(scenes)}


def evaluate_segmenter(net, scenes, batch: int = 50) -> dict:
    confusion = np.zeros((seg.NUM_CLASSES, seg.NUM_CLASSES), np.int64)
    with torch.no_grad():
        for i in range(0, len(scenes), batch):
            chunk = scenes[i:i + batch]
            predicted = net(to_input(chunk, seg.MEAN, seg.STD)).argmax(1).numpy()
            truth = np.stack([s.mask for s in chunk])
            confusion += scene_metrics.confusion_matrix(predicted, truth, seg.NUM_CLASSES)
    scores = scene_metrics.segmentation_scores(confusion)
    digits_only = [v for v in scores["per_class_iou"][1:] if v is not None]
    scores["miou_digits_only"] = float(np.mean(digits_only))
    scores["scenes"] = len(scenes)
    return scores


def grad_cam_in_box(net, scene, layer: str = det.DEFAULT_CAM_LAYER) -> float | None:
    """Fraction of the Grad-CAM energy of the top detection that lies inside its box."""
    module = dict(net.named_modules())[layer]
    store = {}
    handle = module.register_forward_hook(lambda _m, _i, out: store.update(act=out))
    try:
        result = net(to_input([scene]))[0]
        if len(result["scores"]) == 0:
            return None
        grad = torch.autograd.grad(result["scores"][0], store["act"])[0]
    finally:
        handle.remove()
    weights = grad.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * store["act"]).sum(1, keepdim=True)).detach()
    cam = F.interpolate(cam, size=scene.image.shape[:2], mode="bilinear", align_corners=False)[0, 0]
    if cam.sum() <= 0:
        return 0.0
    x0, y0, x1, y1 = result["boxes"][0].detach().round().int().tolist()
    return float(cam[y0:y1, x0:x1].sum() / cam.sum())


def evaluate_cam(net, scenes) -> dict:
    fractions = [f for f in (grad_cam_in_box(net, s) for s in scenes) if f is not None]
    return {"mean": float(np.mean(fractions)), "median": float(np.median(fractions)),
            "scenes": len(fractions), "layer": det.DEFAULT_CAM_LAYER}


def held_out_sets(n: int = EVAL_SCENES) -> dict:
    return {"held_out": ds.make_scenes(n, 1000, "held_out", "default"),
            "foreign": ds.make_scenes(n, 2000, "held_out", "foreign")}


def run(name: str, epochs: int, minutes: float) -> dict:
    net, settings = train_model(name, epochs, minutes)
    sets = held_out_sets()
    if name == "detector":
        report = {key: evaluate_detector(net, scenes) for key, scenes in sets.items()}
        report["cam_energy_in_box"] = evaluate_cam(net, sets["held_out"][:100])
        path = det.weights_path()
    else:
        report = {key: evaluate_segmenter(net, scenes) for key, scenes in sets.items()}
        path = seg.weights_path()
    report["training"] = settings
    report["parameters"] = sum(p.numel() for p in net.parameters())
    torch.save(net.state_dict(), path)
    print(json.dumps({k: v for k, v in report.items()}, indent=1))
    return report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["detector", "segmenter"])
    parser.add_argument("--epochs", type=int, default=40, help="100 batches of 32 each")
    parser.add_argument("--minutes", type=float, default=11.0, help="time budget per model")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    meta = scenes_meta()
    meta.update({"scene_size": list(ds.SCENE_SIZE), "digit_size_range": list(ds.DIGIT_SIZE_RANGE),
                 "count_range": list(ds.COUNT_RANGE), "eval_seeds": {"held_out": 1000,
                                                                      "foreign": 2000}})
    for name in [args.only] if args.only else ["detector", "segmenter"]:
        meta[name] = run(name, args.epochs, args.minutes)
        resource_path("models", META_NAME).write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
