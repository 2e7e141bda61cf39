"""Worker jobs of the Adversarial tab: core attacks in, numpy out."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class AttackView:
    original: np.ndarray  # (H, W, 3) what the model saw
    adversarial: np.ndarray
    perturbation: np.ndarray  # adversarial − original
    linf: float
    l2: float
    before: list  # ClassScore, best first
    after: list
    success: bool
    quantized_fools: bool  # does the 8-bit version still succeed?
    quantized_top: object  # ClassScore of the 8-bit version
    target: int | None
    true_class: int
    method: str
    steps_run: int
    extras: dict = field(default_factory=dict)
    clips: tuple | None = None  # a clip model's (original, adversarial) clips (T, H, W, 3)
    attack: object = None  # the core AttackResult, its tensors detached on the CPU


def _scores(model, probs, k=3):
    from workbench.core.predict import top_scores

    return top_scores(model, probs, k)


def _goal_met(pred: int, true_class: int, target: int | None) -> bool:
    return pred == target if target is not None else pred != true_class


def attack_job(model, image, method, target, params, ctx, source=None) -> AttackView:
    """The attack; ``source`` is the class to leave (``None``: the top-1), a dense model's
    target class (its detection vanishes, or its region changes class)."""
    import torch

    from workbench.core import fastpath
    from workbench.core.adversarial import attack, quantize_8bit
    from workbench.core.preprocess import model_input, to_image

    x = model_input(model, image)
    labels = None if source is None else [source]
    result = attack(model, x, method, target=target, params=params, ctx=ctx, labels=labels)
    adv = result.adversarial
    with torch.inference_mode():
        from workbench.core.predict import probabilities

        quantized = probabilities(model, fastpath.forward(model, quantize_8bit(adv, x)))[0]
    target_class = int(result.targets[0]) if result.targeted else None
    true_class = int(result.source[0])
    quantized_top = _scores(model, quantized, 1)[0]
    extras = {}
    if target_class is not None:  # what a targeted attack did to its target
        from workbench.core.predict import ClassScore

        label = model.label(target_class)
        extras = {"target_before": ClassScore(target_class, label,
                                              float(result.probs_before[0][target_class])),
                  "target_after": ClassScore(target_class, label,
                                             float(result.probs_after[0][target_class]))}
    return AttackView(
        to_image(x), to_image(adv), to_image(result.perturbation), float(result.linf[0]),
        float(result.l2[0]), _scores(model, result.probs_before[0]),
        _scores(model, result.probs_after[0]), bool(result.success[0]),
        _goal_met(quantized_top.index, true_class, target_class), quantized_top,
        target_class, true_class, method, int(result.steps_run), extras,
        (clip_frames(x), clip_frames(adv)) if x.ndim == 5 else None, portable(result))


def portable(result):
    """The AttackResult with every tensor detached on the CPU (safe in the GUI thread; the
    clean logits computed now, on the worker)."""
    import dataclasses

    import torch

    def cpu(value):
        return value.detach().cpu() if isinstance(value, torch.Tensor) else value

    return dataclasses.replace(
        result, adversarial=cpu(result.adversarial), perturbation=cpu(result.perturbation),
        clean_logits=cpu(result.logits_before), logits_after=cpu(result.logits_after),
        targets=cpu(result.targets), source=cpu(result.source),
        extras={k: cpu(v) for k, v in result.extras.items()})


def clip_frames(x) -> np.ndarray:
    """``(1, 3, T, H, W)`` → ``(T, H, W, 3)`` numpy frames."""
    return x.detach()[0].permute(1, 2, 3, 0).float().cpu().numpy()


@dataclass
class SweepView:
    eps: np.ndarray
    true_prob: np.ndarray
    target_prob: np.ndarray | None
    images: np.ndarray  # (K, H, W, 3) adversarial image per epsilon
    top1: list  # label of the top-1 class per epsilon
    true_label: str
    target_label: str | None
    top1_prob: np.ndarray | None = None


def sweep_job(model, image, method, eps_list, target, params, ctx) -> SweepView:
    from workbench.core.adversarial import epsilon_sweep
    from workbench.core.preprocess import model_input, shown_frame

    x = model_input(model, image)
    sweep = epsilon_sweep(model, x, method, eps_list, target=target, params=params, ctx=ctx)
    adversarial = sweep.adversarial.detach()
    if adversarial.ndim == 5:  # clips: the frame a picture of a clip shows
        adversarial = adversarial[:, :, shown_frame(adversarial.shape[2])]
    images = adversarial.permute(0, 2, 3, 1).float().cpu().numpy()
    return SweepView(sweep.eps, sweep.true_prob, sweep.target_prob, images,
                     [model.label(int(i)) for i in sweep.top1], model.label(sweep.true_class),
                     None if sweep.target is None else model.label(sweep.target),
                     np.asarray(sweep.top1_prob))


def cam_pair_job(model, original, adversarial, ctx):
    """Grad-CAM of each image (or each clip ``(T, H, W, 3)``, drawn at its shown frame) for
    its own top-1 class, at the default layer."""
    import torch

    from workbench.core.attribution import attribute
    from workbench.core.preprocess import shown_map

    batch = torch.from_numpy(np.stack([original, adversarial]))
    batch = batch.permute(0, 4, 1, 2, 3) if batch.ndim == 5 else batch.permute(0, 3, 1, 2)
    result = attribute(model, batch.to(model.device), "gradcam", ctx=ctx)
    return np.stack([shown_map(m) for m in result.numpy()]), [model.label(t)
                                                              for t in result.targets]


def save_and_check_job(model, original, adversarial, true_class, target, path, ctx):
    """Write the 8-bit PNG (levels chosen toward the original, so it keeps the budget),
    read it back from disk, classify it again; also the stored L∞ in /255."""
    import torch

    from workbench.core.adversarial import quantize_8bit
    from workbench.core.predict import predict_image
    from workbench.errors import InputError
    from workbench.io.export import save_png
    from workbench.io.images import load_image

    if model.kind == "video":
        raise InputError(f"{model.name} takes clips: an adversarial clip of "
                         f"{model.num_frames} frames is not one PNG (the 8-bit check is "
                         "shown with the attack)")
    levels = quantize_8bit(torch.from_numpy(adversarial), torch.from_numpy(original))
    save_png(path, np.round(levels.numpy() * 255.0).astype(np.uint8))
    stored = load_image(path, max_side=None)
    prediction, _ = predict_image(model, stored, 1, ctx)
    best = prediction.best
    linf = float(np.abs(stored - original).max() * 255.0) if stored.shape == original.shape \
        else float("nan")
    return best, _goal_met(best.index, true_class, target), linf


def train_patch_job(model, images, target, params, ctx):
    from workbench.core.adversarial.patch import train_patch
    from workbench.core.preprocess import model_input

    batch = [model_input(model, image) for image in images]
    result = train_patch(model, batch, target, params, ctx)
    patch = result.patch.permute(1, 2, 0).cpu().numpy()
    return patch, result.mask[0].cpu().numpy(), result.history


def apply_patch_job(model, image, patch, mask, position, scale, angle, ctx):
    import torch

    from workbench.core import fastpath
    from workbench.core.adversarial.patch import apply_patch
    from workbench.core.preprocess import model_input, to_image

    x = model_input(model, image)
    patch_t = torch.from_numpy(patch).permute(2, 0, 1).to(x)
    mask_t = torch.from_numpy(mask)[None].to(x)
    pasted = apply_patch(x, patch_t, mask_t, position, scale, angle, anchor="centre")
    with torch.inference_mode():
        from workbench.core.predict import probabilities

        probs = probabilities(model, fastpath.forward(model, pasted))[0]
    return to_image(pasted), _scores(model, probs, 5)


def load_images_job(paths, ctx):
    from workbench.ui.tabs.featviz.jobs import load_images_job as load

    return load(paths, ctx)
