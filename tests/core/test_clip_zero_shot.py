"""CLIP zero-shot (Radford et al. 2021): typed prompts become the labels, logits are the scaled
cosine similarities open_clip itself computes, and every method works toward a prompt.

Random weights, the real tokenizer shipped inside open_clip, a tiny open_clip config."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.tiny_clip import tiny_clip_dir
from workbench.core.models import clip_zoo
from workbench.core.models.clip_zoo import set_prompts, split_prompts
from workbench.core.models.registry import load_model
from workbench.errors import InputError, WeightsNotCachedError

PROMPTS = ["cat", "dog", "car"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    folder = tiny_clip_dir(tmp_path_factory.mktemp("tiny_clip"))
    model = load_model(f"clip:{folder}:random")
    set_prompts(model, PROMPTS)
    return model


def pixels(seed=0, size=64):
    return torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed))


def test_prompts_become_labels(clip):
    assert clip.labels == PROMPTS and clip.num_classes == 3
    assert clip.extras["prompts"] == PROMPTS and clip.extras["template"] == "a photo of a {}"
    assert clip.kind == "image" and clip.input_size == (64, 64)
    assert clip_zoo.is_clip(clip)
    assert clip.module(pixels()).shape == (1, 3)


def test_logits_equal_open_clips_own_similarities(clip):
    import open_clip

    head = clip_zoo.head_of(clip)
    model, x = head.clip, pixels(1)
    tokens = open_clip.get_tokenizer("ViT-B-32")([f"a photo of a {p}" for p in PROMPTS])
    assert tokens.shape == (3, 77) and (tokens[:, 0] == 49406).all()  # the real BPE vocab
    with torch.no_grad():
        image = model.encode_image(clip.module.normalize(x), normalize=True)
        text = model.encode_text(tokens, normalize=True)
        expected = model.logit_scale.exp() * image @ text.T
        got = clip.module(x)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(got[0, 0], got[0, 1])  # the prompts are told apart


def test_set_prompts_keeps_the_image_encoder(clip):
    head = clip_zoo.head_of(clip)
    visual, weight = head.visual, head.visual.conv1.weight.clone()
    labels = clip.labels  # the same list object, changed in place
    try:
        got = set_prompts(clip, "an apple\nan iPod\n\nan apple", template="")
        assert got == ["an apple", "an iPod"] and labels is clip.labels
        assert clip.labels == ["an apple", "an iPod"] and clip.module(pixels()).shape == (1, 2)
        assert head.visual is visual and torch.equal(head.visual.conv1.weight, weight)
        with torch.no_grad():
            direct = head.encode_prompts(["an iPod"])
        torch.testing.assert_close(head.text_features[1:], direct)  # no template: as typed
    finally:
        set_prompts(clip, PROMPTS)


def test_prompt_parsing_and_errors(clip):
    assert split_prompts("a cat, a dog ,a car") == ["a cat", "a dog", "a car"]
    assert split_prompts("a cat, black\na dog") == ["a cat, black", "a dog"]
    with pytest.raises(InputError, match="at least one prompt"):
        set_prompts(clip, " , ")
    with pytest.raises(InputError, match="must contain"):
        set_prompts(clip, "cat", template="a photo")
    assert clip.labels == PROMPTS  # a refused change leaves the model as it was


def test_gradcam_toward_a_prompt(clip):
    from workbench.core.attribution import attribute

    assert clip.default_cam_layer == "visual.transformer.resblocks.1.ln_1"
    result = attribute(clip, pixels(2), "gradcam", layer=clip.default_cam_layer, targets=[2])
    maps = result.numpy()
    assert maps.shape[-2:] == (64, 64) and maps.ndim in (2, 3)
    assert np.isfinite(maps).all() and np.ptp(maps) > 0
    assert result.targets == [2]


def test_targeted_pgd_raises_the_prompt(clip):
    from workbench.core.adversarial import attack

    x = pixels(3)
    with torch.no_grad():
        before = torch.softmax(clip.module(x), 1)[0]
    target = int(before.argmin())
    result = attack(clip, x, "pgd", target=target,
                    params={"eps": 16 / 255, "steps": 10, "step_size": 4 / 255})
    after = result.probs_after[0]
    assert after[target] > before[target] + 0.05
    assert float((result.adversarial - x).abs().max()) <= 16 / 255 + 1e-6


def test_not_a_clip_model():
    from types import SimpleNamespace

    plain = SimpleNamespace(name="lenet", module=SimpleNamespace(net=torch.nn.Linear(2, 2)))
    with pytest.raises(InputError, match="not a CLIP model"):
        set_prompts(plain, "a cat")


def test_pretrained_offline_without_cache_says_download(tmp_path, monkeypatch):
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(WeightsNotCachedError, match="--download"):
        load_model("clip:ViT-B-32")
    with pytest.raises(WeightsNotCachedError, match="--download"):
        load_model("clip:hf-hub:laion/CLIP-ViT-B-32-laion2B-s34B-b79K")


def test_unknown_arch(tmp_path):
    from workbench.errors import ModelLoadError

    with pytest.raises(ModelLoadError, match="no architecture"):
        load_model("clip:ViT-Q-99:random")
