"""Hugging Face image classifiers from a folder saved with ``save_pretrained`` (tiny random
models built here from a config: no download), and ``hf:ORG/NAME`` offline."""

from __future__ import annotations

import pytest
import torch

transformers = pytest.importorskip("transformers")

from workbench.core.attribution import attribute  # noqa: E402
from workbench.core.models import load_model, parse_spec  # noqa: E402
from workbench.core.models.checkpoint import CheckpointOptions  # noqa: E402
from workbench.core.predict import predict_pixels  # noqa: E402
from workbench.errors import WeightsNotCachedError  # noqa: E402

LABELS = ["ant", "bee", "cat", "dog", "eel"]


def _id2label(labels):
    return {i: name for i, name in enumerate(labels)}, {name: i for i, name in enumerate(labels)}


def save_vit(folder, problem_type=None):
    id2label, label2id = _id2label(LABELS)
    torch.manual_seed(0)
    config = transformers.ViTConfig(
        image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, num_labels=5, id2label=id2label,
        label2id=label2id, problem_type=problem_type)
    net = transformers.ViTForImageClassification(config).eval()
    net.save_pretrained(folder)
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return net


def save_resnet(folder):
    id2label, label2id = _id2label(LABELS[:3])
    torch.manual_seed(0)
    config = transformers.ResNetConfig(
        embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic",
        num_labels=3, id2label=id2label, label2id=label2id)
    net = transformers.ResNetForImageClassification(config).eval()
    net.save_pretrained(folder)
    transformers.ConvNextImageProcessor(
        size={"shortest_edge": 48}, crop_pct=0.875, image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225]).save_pretrained(folder)
    return net


@pytest.fixture(scope="module")
def vit(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hf") / "tiny-vit"
    return folder, save_vit(folder)


def test_folder_with_config_is_a_hf_model(vit):
    folder, _ = vit
    parsed = parse_spec(str(folder))
    assert (parsed.family, parsed.name) == ("hf", str(folder))


def test_vit_folder_logits_labels_and_preprocessing(vit):
    folder, reference = vit
    model = load_model(str(folder))
    assert model.labels == LABELS and model.input_size == (32, 32)
    assert model.module.mean.tolist() == [0.5, 0.5, 0.5] and not model.multi_label
    assert model.output == "logits" and "logits" in model.output_candidates
    assert "Hugging Face" in model.source
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        ours = model.module(x)
        theirs = reference((x - 0.5) / 0.5).logits
    torch.testing.assert_close(ours, theirs)
    result = attribute(model, x[:1], "gradcam", layer=model.default_cam_layer)
    maps = result.numpy()
    assert maps.ndim == 3 and maps.shape[0] == 1 and torch.isfinite(result.maps).all()


def test_resnet_folder_crop_mean_std_and_gradcam(tmp_path):
    folder = tmp_path / "tiny-resnet"
    reference = save_resnet(folder)
    model = load_model(str(folder))
    assert model.labels == ["ant", "bee", "cat"] and model.input_size == (48, 48)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x = torch.rand(1, 3, 48, 48)
    with torch.no_grad():
        torch.testing.assert_close(model.module(x), reference((x - mean) / std).logits)
    result = attribute(model, x, "gradcam")
    assert result.maps.shape[-2:] == (48, 48) and torch.isfinite(result.maps).all()


def test_multi_label_config_gives_sigmoid_probabilities(tmp_path):
    folder = tmp_path / "multi"
    reference = save_vit(folder, problem_type="multi_label_classification")
    model = load_model(f"hf:{folder}")
    assert model.multi_label and model.name == f"hf:{folder}"
    x = torch.rand(1, 3, 32, 32)
    prediction = predict_pixels(model, x, topk=5)
    with torch.no_grad():
        expected = torch.sigmoid(reference((x - 0.5) / 0.5).logits)[0]
    assert prediction.probs == pytest.approx(expected.numpy(), abs=1e-5)
    assert [s.index for s in prediction.top] == expected.argsort(descending=True).tolist()


def test_user_mean_std_and_labels_override_a_named_model(vit, tmp_path):
    folder, _ = vit
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\nc\nd\ne\n")
    model = load_model(str(folder), checkpoint=CheckpointOptions(
        mean=(0.1, 0.2, 0.3), std=(0.5, 0.5, 0.5), labels_file=str(labels)))
    assert model.module.mean.tolist() == pytest.approx([0.1, 0.2, 0.3])
    assert model.labels == ["a", "b", "c", "d", "e"]


def test_hub_name_not_cached_offline_says_download(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(WeightsNotCachedError) as info:
        load_model("hf:some-org/not-cached-vit")
    message = str(info.value)
    assert "some-org/not-cached-vit" in message and "--download" in message
    assert "\n" not in message
