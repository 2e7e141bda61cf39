"""Prediction and preprocessing contracts."""

import numpy as np
import pytest
import torch
from torch import nn

from workbench.core.models.registry import wrap_model
from workbench.core.predict import predict_image, predict_pixels
from workbench.core.preprocess import crop_box, to_pixels
from workbench.errors import InputError


class Constant(nn.Module):
    def __init__(self, value):
        super().__init__()
        self.value = value
        self.fc = nn.Linear(3, 4)

    def forward(self, x):
        out = self.fc(x.mean(dim=(2, 3)))
        return out * 0 + torch.tensor(self.value) if self.value is not None else out


def tiny_model(value=None):
    prep = {"mean": (0.5,) * 3, "std": (0.5,) * 3, "input_size": (8, 8)}
    return wrap_model(Constant(value), prep, ["a", "b", "c", "d"], "tiny", "test", "image",
                      torch.device("cpu"))


def test_topk_is_sorted_and_labelled():
    model = tiny_model([0.0, 3.0, 1.0, 2.0])
    prediction, pixels = predict_image(model, np.full((20, 30, 3), 0.25, np.float32), topk=3)
    assert [s.label for s in prediction.top] == ["b", "d", "c"]
    assert prediction.top[0].prob == pytest.approx(np.exp(3) / np.exp([0, 3, 1, 2]).sum())
    assert pixels.shape == (1, 3, 8, 8)


def test_nan_input_and_nan_output_are_reported():
    model = tiny_model()
    image = np.zeros((8, 8, 3), np.float32)
    image[2, 2, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        predict_image(model, image)
    with pytest.raises(InputError, match="NaN"):
        predict_pixels(tiny_model([float("nan")] * 4), torch.zeros(1, 3, 8, 8))


def test_crop_then_resize_handles_extreme_aspect_ratios():
    assert crop_box(1, 40000, (224, 224)) == (0, 19999, 1, 1)
    assert crop_box(300, 451, (224, 224)) == (0, 75, 300, 300)
    x = to_pixels(np.random.rand(1, 40000, 3).astype(np.float32), (224, 224))
    assert x.shape == (1, 3, 224, 224)


def test_wrong_image_shapes():
    with pytest.raises(InputError, match="RGB"):
        to_pixels(np.zeros((8, 8), np.float32), (8, 8))


def test_a_multi_label_model_gives_sigmoid_probabilities_in_occlusion_too():
    """One mechanism (core.predict.probabilities): a multi-label head is explained with its
    independent sigmoid probabilities, not a softmax over labels, by the occlusion sweep
    and by painted occlusion as by Predict."""
    import dataclasses

    import numpy as np
    import torch

    from workbench.core.models.registry import load_model
    from workbench.core.occlusion import predict_masked
    from workbench.core.occlusion.sliding import OcclusionParams, occlusion_map

    model = dataclasses.replace(load_model("digits_lenet"), multi_label=True)
    x = torch.rand(1, 3, *model.input_size)
    with torch.no_grad():
        sigmoid = torch.sigmoid(model.module(x).float())[0].numpy()
    params = OcclusionParams(window=model.input_size[0] // 2, stride=model.input_size[0] // 2)
    result = occlusion_map(model, x, params=params)
    np.testing.assert_allclose(result.base_probs, sigmoid, atol=1e-5)
    assert result.base_probs.sum() != pytest.approx(1.0)
    mask = np.zeros(model.input_size, dtype=bool)
    painted = predict_masked(model, x, mask)  # nothing hidden: the same picture
    np.testing.assert_allclose(painted.probs, sigmoid, atol=1e-5)


def test_an_attack_on_a_multi_label_model_reports_sigmoid_probabilities():
    import dataclasses

    import torch

    from workbench.core.adversarial import attack
    from workbench.core.models.registry import load_model

    model = dataclasses.replace(load_model("digits_lenet"), multi_label=True)
    x = torch.rand(1, 3, *model.input_size)
    result = attack(model, x, "fgsm", params={"eps": 8 / 255})
    with torch.no_grad():
        expected = torch.sigmoid(model.module(x).float())
    torch.testing.assert_close(result.probs_before, expected, atol=1e-5, rtol=1e-5)


def test_log_probability_is_log_softmax_or_the_labels_own_log_sigmoid():
    """The patch's training loss: one class against the rest, or one label on its own."""
    import dataclasses

    import torch

    from workbench.core.models.registry import load_model
    from workbench.core.predict import log_probability

    model = load_model("digits_lenet")
    logits = torch.randn(4, 10)
    classes = torch.tensor([0, 3, 9, 3])
    expected = torch.log_softmax(logits, 1)[torch.arange(4), classes]
    torch.testing.assert_close(log_probability(model, logits, classes), expected)
    multi = dataclasses.replace(model, multi_label=True)
    own = torch.nn.functional.logsigmoid(logits[torch.arange(4), classes])
    torch.testing.assert_close(log_probability(multi, logits, classes), own)


def test_a_patch_for_a_multi_label_model_raises_the_labels_sigmoid():
    """Patch training on a multi-label head reports (and raises) the label's sigmoid."""
    import dataclasses

    import torch

    from workbench.core.adversarial.patch import PatchParams, patch_effect, train_patch
    from workbench.core.models.registry import load_model

    model = dataclasses.replace(load_model("digits_lenet"), multi_label=True)
    batch = torch.rand(6, 3, *model.input_size)
    params = PatchParams(size=12, steps=15, batch_size=6, lr=0.1)
    result = train_patch(model, batch, target=3, params=params)
    assert 0 < result.history[-1] < 1 and result.history[-1] > result.history[0]
    effect = patch_effect(model, batch, result.patch, result.mask, 3)
    assert ((effect > 0) & (effect < 1)).all()
