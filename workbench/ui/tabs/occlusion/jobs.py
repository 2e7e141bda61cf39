"""Worker jobs of the Occlusion tab (numpy in, numpy out)."""

from __future__ import annotations


def base_job(model, image, ctx):
    """The unmasked input as numpy, and its probabilities (cached by the panel)."""
    import torch

    from workbench.core import fastpath
    from workbench.core.predict import probabilities
    from workbench.core.preprocess import model_input, to_image

    x = model_input(model, image)
    with torch.inference_mode():
        probs = probabilities(model, fastpath.forward(model, x))[0].cpu().numpy()
    return to_image(x), probs


def paint_job(model, image, mask, fill, topk, base_probs, ctx):
    from workbench.core.occlusion import predict_masked
    from workbench.core.preprocess import model_input

    return predict_masked(model, model_input(model, image), mask, fill, topk, base_probs, ctx)


def sweep_job(model, image, fill, target, params, ctx):
    from workbench.core.occlusion import occlusion_map
    from workbench.core.preprocess import model_input

    return occlusion_map(model, model_input(model, image), fill, target, params, ctx)
