"""Grad-CAM on the real EfficientNet-Lite0: the cat, and a faithful map.

The centre crop of ``chelsea`` is all cat, so the photo is placed on a plain
grey canvas: the cat's box is then known, and deleting it should matter.
"""

import torch
from torch.nn import functional as F

from workbench.core.attribution import FaithfulnessParams, attribute, faithfulness
from workbench.core.preprocess import to_pixels

BOX = (slice(48, 176), slice(16, 144))  # rows, columns of the cat on the canvas


def cat_scene(sample_image):
    canvas = torch.full((1, 3, 224, 224), 0.5)
    canvas[..., BOX[0], BOX[1]] = to_pixels(sample_image("chelsea"), (128, 128))
    return canvas


def test_gradcam_finds_the_cat_and_beats_random_maps(lite0, sample_image):
    x = cat_scene(sample_image)
    egyptian_cat = lite0.labels.index("Egyptian cat")
    result = attribute(lite0, x, "gradcam", targets=[egyptian_cat])
    cam = result.maps[0]
    inside = float(cam[BOX].sum() / cam.sum())
    assert inside > 0.5, inside  # the box is a third of the image
    params = FaithfulnessParams(steps=16)
    ours = faithfulness(lite0, x, cam, egyptian_cat, params)
    generator = torch.Generator().manual_seed(0)
    pixel_noise = torch.rand(224, 224, generator=generator)
    smooth_noise = F.interpolate(torch.rand(1, 1, 7, 7, generator=generator), size=(224, 224),
                                 mode="bilinear")[0, 0]
    for random_map in (pixel_noise, smooth_noise):
        theirs = faithfulness(lite0, x, random_map, egyptian_cat, params)
        assert ours.deletion_auc < theirs.deletion_auc
    assert ours.insertion_auc > ours.deletion_auc


def test_eigencam_is_never_blank_on_mostly_negative_layers(lite0, sample_image):
    """At _conv_head and _blocks.15 (before their activation: mostly negative values) the
    first principal component oriented by the mean activation gave all-zero maps."""
    from workbench.core.preprocess import model_input

    images = torch.cat([model_input(lite0, sample_image(name))
                        for name in ("chelsea", "coffee", "rocket")])
    for layer in ("_conv_head", "_blocks.15"):
        maps = attribute(lite0, images, "eigencam", layer=layer).maps
        for index, cam in enumerate(maps):
            assert float((cam > 0).float().mean()) > 0.1, (layer, index)  # a real region
            assert float(cam.max()) > 0, (layer, index)
