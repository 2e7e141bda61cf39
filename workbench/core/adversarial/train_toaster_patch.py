"""Train the shipped "toaster" patch on EfficientNet-Lite0 and measure how well it transfers.

Brown, Mané, Roy, Abadi & Gilmer, "Adversarial Patch", 2017,
https://arxiv.org/abs/1712.09665

Run ``python -m workbench.core.adversarial.train_toaster_patch``.  The patch is
trained (:func:`workbench.core.adversarial.patch.train_patch`: random position,
scale and rotation at every step) on random crops of scikit-image photos that are
*not* among the File → Samples photos, then measured on those samples, which it
never saw, each at random placements.  Writes
``resources/patches/toaster_efficientnet_lite0.png`` (RGBA, alpha = the round
mask) and a JSON beside it with the recipe and the measured transfer rate.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from workbench.core.adversarial.base import forward
from workbench.core.adversarial.patch import PatchParams, place, random_placements, train_patch
from workbench.resources import resource_path

TOASTER = 859
MODEL = "efficientnet_lite0"
PATCH_FILE = "toaster_efficientnet_lite0.png"
# scikit-image photos that are not File → Samples photos (those are held out)
TRAIN_PHOTOS = ("horse.png", "retina.jpg", "hubble_deep_field.jpg", "grass.png", "gravel.png",
                "brick.png", "coins.png", "moon.png", "color.png", "ihc.png", "page.png",
                "text.png", "cell.png", "clock_motion.png")
CROPS_PER_PHOTO = 6
# natural scenes the photos lack (streets, people, animation): frames of the video samples
FRAMES_PER_VIDEO = 12
TEST_PLACEMENTS = 8
TEST_MAX_ANGLE = 20.0


def patch_paths() -> tuple[Path, Path]:
    """The shipped patch PNG and its JSON."""
    png = resource_path("patches", PATCH_FILE)
    return png, png.with_suffix(".json")


def random_crops(image: np.ndarray, n: int, size, gen: np.random.Generator) -> torch.Tensor:
    """``n`` random square crops (40–100 % of the short side, flipped at random) of an
    ``(H, W, 3)`` image, resized to ``size``: ``(n, 3, h, w)``."""
    from torch.nn import functional as F

    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1)
    height, width = x.shape[1:]
    crops = []
    for _ in range(n):
        side = int(min(height, width) * gen.uniform(0.4, 1.0))
        top, left = gen.integers(0, height - side + 1), gen.integers(0, width - side + 1)
        crop = x[None, :, top:top + side, left:left + side]
        crop = crop.flip(-1) if gen.random() < 0.5 else crop
        crops.append(F.interpolate(crop, size=size, mode="bilinear", antialias=True,
                                   align_corners=False))
    return torch.cat(crops)


def training_images(model, seed: int = 0, frames_per_video: int = FRAMES_PER_VIDEO
                    ) -> torch.Tensor:
    """Random crops of the training photos and of frames spread over each video sample
    (none of them a File → Samples photo, which are held out)."""
    import skimage

    from workbench.io.images import load_image

    folder = Path(skimage.__file__).parent / "data"
    gen = np.random.default_rng(seed)
    crops = [random_crops(load_image(folder / name), CROPS_PER_PHOTO, model.input_size, gen)
             for name in TRAIN_PHOTOS]
    crops += [random_crops(frame, 2, model.input_size, gen)
              for frame in video_frames(frames_per_video)]
    return torch.cat(crops)


def video_frames(per_video: int) -> list[np.ndarray]:
    """``per_video`` frames spread evenly over each video sample."""
    from workbench.io.samples import VIDEO_SAMPLES
    from workbench.io.video import VideoReader

    frames = []
    for clip in VIDEO_SAMPLES if per_video else ():
        reader = VideoReader(clip.path())
        try:
            picks = np.linspace(0, len(reader) - 1, per_video).round().astype(int)
            frames += [reader.frame(int(i)) for i in picks]
        finally:
            reader.close()
    return frames


def sample_inputs(model, names=None) -> tuple[list[str], torch.Tensor]:
    """The File → Samples photos (or those named) as the model sees them."""
    from workbench.core.preprocess import model_input
    from workbench.io.images import load_image
    from workbench.io.samples import available_samples

    chosen = [s for s in available_samples() if names is None or s.name in names]
    return [s.name for s in chosen], torch.cat([model_input(model, load_image(s.path()))
                                                for s in chosen])


def transfer_rate(model, x, patch, mask, target: int = TOASTER, trials: int = TEST_PLACEMENTS,
                  seed: int = 1, max_angle: float = TEST_MAX_ANGLE) -> dict:
    """How often the patch, pasted at ``trials`` random places (scale 1, rotation up to
    ± ``max_angle``°) on each image of ``x``, makes ``target`` the top-1.

    Returns ``rate`` (over all placements), ``per_image`` (each image's rate),
    ``mean_prob`` (of the target) and ``top1`` (``(N, trials)`` class indices)."""
    gen = torch.Generator(device=x.device).manual_seed(seed)
    n, _, height, width = x.shape
    fixed = PatchParams(min_scale=1.0, max_scale=1.0, max_angle=max_angle)
    patch, mask = patch.to(x), mask.to(x)
    top1, probs = [], []
    for _ in range(trials):
        placement = random_placements(n, height, width, max(patch.shape[-2:]), fixed, gen,
                                      x.device)
        p = forward(model, place(x, patch, mask, *placement).clamp(0, 1)).softmax(1)
        top1.append(p.argmax(1))
        probs.append(p[:, target])
    top1 = torch.stack(top1, 1)
    hits = (top1 == target).float()
    return {"rate": float(hits.mean()), "per_image": hits.mean(1).tolist(),
            "mean_prob": float(torch.stack(probs).mean()), "top1": top1.cpu().numpy()}


def load_shipped_patch() -> tuple[torch.Tensor, torch.Tensor]:
    """``(patch (3, s, s), mask (1, s, s))`` of the shipped PNG."""
    from PIL import Image

    with Image.open(patch_paths()[0]) as image:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    tensor = torch.from_numpy(rgba.transpose(2, 0, 1).copy())
    return tensor[:3], tensor[3:]


def save(result, record: dict) -> None:
    from workbench.io.export import save_png

    png, js = patch_paths()
    png.parent.mkdir(parents=True, exist_ok=True)
    rgba = torch.cat([result.patch, result.mask]).cpu().numpy().transpose(1, 2, 0)
    save_png(png, rgba, {"Caption": f"adversarial patch for 'toaster' on {MODEL}",
                         "Target": TOASTER})
    js.write_text(json.dumps(record, indent=2) + "\n")


def main(argv=None) -> None:
    from workbench.core.models.registry import load_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--size", type=int, default=64, help="patch side in model pixels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--video-frames", type=int, default=FRAMES_PER_VIDEO,
                        help="frames of each video sample added to the training crops")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    model = load_model(MODEL)
    images = training_images(model, args.seed, args.video_frames)
    params = PatchParams(size=args.size, shape="circle", steps=args.steps, lr=0.05,
                         batch_size=8, min_scale=0.9, max_scale=1.1, max_angle=20.0,
                         preview_every=100, seed=args.seed)
    start = time.perf_counter()
    result = train_patch(model, images, TOASTER, params, ProgressPrinter())
    seconds = time.perf_counter() - start
    names, held_out = sample_inputs(model)
    measured = transfer_rate(model, held_out, result.patch, result.mask)
    record = {
        "model": MODEL, "target": TOASTER, "label": model.label(TOASTER),
        "params": asdict(params), "input_size": list(model.input_size),
        "patch_side_fraction": round(args.size / model.input_size[0], 3),
        "training_images": {"photos": list(TRAIN_PHOTOS), "crops_per_photo": CROPS_PER_PHOTO,
                            "video_samples": args.video_frames and "frames of every video "
                            f"sample: {args.video_frames} each, 2 crops per frame",
                            "source": "scikit-image data (not the File → Samples photos)"},
        "training_seconds": round(seconds, 1), "device": "cpu",
        "torch_threads": torch.get_num_threads(),
        "final_training_prob": float(np.mean(result.history[-50:])),
        "held_out": {"samples": names, "placements_per_image": TEST_PLACEMENTS,
                     "scale": 1.0, "max_angle": TEST_MAX_ANGLE, "seed": 1,
                     "transfer_rate": measured["rate"],
                     "per_image": dict(zip(names, measured["per_image"], strict=True)),
                     "mean_toaster_prob": measured["mean_prob"]},
    }
    save(result, record)
    print(json.dumps(record["held_out"], indent=2))
    print(f"trained in {seconds:.0f} s; saved {patch_paths()[0]}")


class ProgressPrinter:
    """A plain job context that prints every preview (step and mean target probability)."""

    def check(self) -> None:
        pass

    def progress(self, fraction, message="") -> None:
        pass

    def partial(self, preview) -> None:
        print(f"step {preview.step}: p(toaster) {preview.target_prob:.3f}", flush=True)


if __name__ == "__main__":
    main()
