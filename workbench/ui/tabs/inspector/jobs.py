"""Worker jobs of the Inspector tab: the layer table, the picture the model sees, a unit's
effective receptive field and a layer's activations (plain functions, ``ctx`` last)."""

from __future__ import annotations


def table_job(model, ctx):
    """The ``ModelTable`` of ``model`` (every named module, totals, receptive fields)."""
    from workbench.core.inspect.table import inspect_model

    ctx.progress(0.0, "Inspecting the layers")
    return inspect_model(model, ctx=ctx)


def picture_job(model, image, ctx):
    """``(H, W, 3)``: the image as the model sees it (cropped and resized)."""
    from workbench.core.preprocess import model_input, to_image

    return to_image(model_input(model, image))


def erf_job(model, image, layer, position, channel, ctx):
    """``(H, W)`` |∂ unit / ∂ input| of the unit at ``position`` of ``layer``."""
    from workbench.core.inspect.table import effective_receptive_field
    from workbench.core.preprocess import model_input

    ctx.progress(0.0, "Effective receptive field")
    x = model_input(model, image)
    return effective_receptive_field(model, layer, x, position, channel=channel)


def activations_job(model, image, layer, ctx):
    """``(C, h, w)``: every channel of ``layer`` for the image (a forward hook, removed)."""
    from workbench.core.featureviz.dataset_examples import channel_activations

    return channel_activations(model, image, layer)
