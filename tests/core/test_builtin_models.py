"""The built-in models are real: Lite0 knows the sample photos, the LeNet knows digits."""

import numpy as np
import pytest

from workbench.core.models import load_model
from workbench.core.predict import predict_image


@pytest.mark.parametrize("sample,label", [("chelsea", "Egyptian cat"), ("coffee", "espresso")])
def test_lite0_classifies_sample_photos(lite0, sample_image, sample, label):
    prediction, pixels = predict_image(lite0, sample_image(sample), topk=5)
    assert prediction.best.label == label
    assert pixels.shape == (1, 3, 224, 224)
    assert np.isclose(prediction.probs.sum(), 1.0, atol=1e-4)


def test_lite0_metadata(lite0):
    assert lite0.kind == "image"
    assert lite0.input_size == (224, 224)
    assert len(lite0.labels) == 1000
    assert lite0.default_cam_layer == "_act1"
    assert lite0.layer_info("_blocks.15").output_shape == (1, 320, 7, 7)
    assert not any(p.requires_grad for p in lite0.module.parameters())


def test_digits_lenet_held_out_accuracy():
    import torch

    from workbench.core.models.digits_data import digit_as_rgb, digits_split
    from workbench.core.preprocess import to_pixels

    model = load_model("digits_lenet")
    _, held_x, _, held_y = digits_split()
    batch = torch.cat([to_pixels(digit_as_rgb(d), model.input_size) for d in held_x])
    with torch.inference_mode():
        predicted = model.module(batch).argmax(1).numpy()
    accuracy = float((predicted == held_y).mean())
    assert len(held_y) == 450
    assert accuracy >= 0.97, accuracy
