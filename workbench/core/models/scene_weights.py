"""Loading the two scene models trained here (``digits_detector``, ``digits_segmenter``):
their weights in ``resources/models``, and the ``(net, prep, labels, source)`` the registry
takes, with the held-out figure from ``digits_scenes.json`` in the source line."""

from __future__ import annotations


def weights_path(module):
    from workbench.resources import resource_path

    return resource_path("models", module.WEIGHTS_NAME)


def load_trained(module, cls, part: str, path=None):
    """``cls()`` with the shipped weights of ``module``, in eval mode; a clear error naming
    the training command (``--only part``) when they are missing."""
    import torch

    from workbench.errors import ModelLoadError

    path = path or weights_path(module)
    if not path.is_file():
        raise ModelLoadError(f"{module.WEIGHTS_NAME.removesuffix('.pt')} weights are missing "
                             f"({path}); run 'python -m workbench.core.models."
                             f"train_digits_scenes --only {part}'")
    net = cls()
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return net.eval()


def pretrained(module, net, part: str, metric: str, text: str):
    """``(net, prep, labels, source)`` of a loaded scene model; ``metric`` names the
    held-out figure (``map50`` or ``miou``) the source line quotes."""
    from workbench.core.models.train_digits_scenes import scenes_meta

    prep = {"mean": module.MEAN, "std": module.STD, "input_size": module.INPUT_SIZE,
            "grey": True, "cam_layer": module.DEFAULT_CAM_LAYER}
    score = scenes_meta().get(part, {}).get("held_out", {}).get(metric)
    name = {"map50": "mAP@0.5", "miou": "mIoU"}[metric]
    source = f"{text} trained here on synthetic digit scenes" + (
        f", held-out {name} {score:.3f}" if score is not None else "")
    return net, prep, list(module.LABELS), source
