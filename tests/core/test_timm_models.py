"""timm models by name (issue 17): logits equal timm's own forward, every family's CAM at its
default layer is a proper 2-D map, weights only from the cache unless asked, and a clear
message without timm.  Random weights and small inputs throughout."""

from __future__ import annotations

import socket
import sys

import numpy as np
import pytest
import torch

timm = pytest.importorskip("timm")

from workbench.core.attribution import attribute  # noqa: E402
from workbench.core.models import timm_zoo  # noqa: E402
from workbench.core.models.layout import (  # noqa: E402
    CHANNELS_FIRST,
    CHANNELS_LAST,
    TOKENS,
    detect_layout,
    token_grid,
)
from workbench.core.models.registry import load_model, wrap_model  # noqa: E402
from workbench.errors import ModelLoadError, WeightsNotCachedError  # noqa: E402

# (name, create_model options, input size or None for the model's own, layout at the CAM
# layer, prefix tokens): conv nets, channels-last stages, hybrids, and ViTs with 1 / 2 / 5
# prefix tokens, a register-only ViT and a non-square token grid
FAMILIES = [
    ("resnet18", {}, (64, 64), CHANNELS_FIRST, 0),
    ("efficientnet_b0", {}, (64, 64), CHANNELS_FIRST, 0),
    ("mobilenetv3_small_100", {}, (64, 64), CHANNELS_FIRST, 0),
    ("regnetx_002", {}, (64, 64), CHANNELS_FIRST, 0),
    ("convnext_atto", {}, (64, 96), CHANNELS_FIRST, 0),
    ("poolformer_s12", {}, (64, 64), CHANNELS_FIRST, 0),
    ("mambaout_femto", {}, (64, 96), CHANNELS_LAST, 0),
    ("swin_tiny_patch4_window7_224", {"img_size": 64, "window_size": 2}, None, CHANNELS_LAST, 0),
    ("maxvit_nano_rw_256", {"img_size": 64}, None, CHANNELS_FIRST, 0),
    ("coatnet_nano_rw_224", {"img_size": 64}, None, CHANNELS_FIRST, 0),
    ("efficientformer_l1", {}, None, TOKENS, 0),
    ("vit_tiny_patch16_224", {"img_size": 64}, None, TOKENS, 1),
    ("deit_tiny_distilled_patch16_224", {"img_size": 64}, None, TOKENS, 2),
    ("vit_small_patch14_reg4_dinov2", {"img_size": 56}, None, TOKENS, 5),
    ("vit_tiny_patch16_224", {"img_size": (48, 80)}, None, TOKENS, 1),
    ("eva02_tiny_patch14_224", {"img_size": 56}, None, TOKENS, 1),
    ("hiera_tiny_224", {}, None, TOKENS, 0),  # the last stage's tokens are in raster order
]
IDS = [f"{name}-{size or opts.get('img_size', 'own')}".replace(", ", "x")
       for name, opts, size, _, _ in FAMILIES]


def randomize_heads(net):
    """Some families start with a zero head (Hiera's linear layer): their
    random-weight logits are constant, and so would every CAM be."""
    heads = net.get_classifier()
    with torch.no_grad():
        for head in heads if isinstance(heads, tuple) else (heads,):
            for name, weight in head.named_parameters():
                if name.endswith("weight") and float(weight.abs().max()) < 1e-3:
                    weight.normal_(0, 0.05, generator=torch.Generator().manual_seed(1))


def build(name, options, size):
    """The zoo's own path from a built timm network to a loaded model (img_size set small)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = timm.create_model(name, pretrained=False, **options)
        randomize_heads(net)
    prep = timm_zoo.preprocessing(net)
    if size:
        prep["input_size"] = size
    layer = timm_zoo.feature_cam_layer(net, prep["input_size"])
    prep["cam_layer"] = layer
    model = wrap_model(net, prep, timm_zoo.labels_of(net), name, "test", "image",
                       torch.device("cpu"))
    return net, model


@pytest.fixture(scope="module")
def loaded():
    cache = {}

    def get(index):
        if index not in cache:
            cache[index] = build(*FAMILIES[index][:3])
        return cache[index]

    return get


@pytest.mark.parametrize("index", range(len(FAMILIES)), ids=IDS)
def test_family_logits_layout_and_cam(loaded, index):
    name, _, _, layout, prefix = FAMILIES[index]
    net, model = loaded(index)
    h, w = model.input_size
    x = torch.rand(2, 3, h, w, generator=torch.Generator().manual_seed(index))
    cfg = timm.data.resolve_model_data_config(net)
    mean = torch.tensor(cfg["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(cfg["std"]).view(1, 3, 1, 1)
    with torch.inference_mode():
        ours, theirs = model.module(x), net((x - mean) / std)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)

    info = model.layer_info(model.default_cam_layer)
    feature_modules = [f["module"] for f in net.feature_info]
    assert info.name in feature_modules[-2:], info.name
    assert info.layout == layout, (info.name, info.layout, info.output_shape)
    if layout == TOKENS:
        rows, cols = info.grid
        assert info.output_shape[1] == prefix + rows * cols
        assert abs(h / rows - w / cols) < 1e-6  # one stride on both axes
    result = attribute(model, x[:1], "gradcam")
    heat = result.maps[0]
    assert tuple(heat.shape) == (h, w)
    assert torch.isfinite(heat).all() and float(heat.std()) > 1e-6 * float(heat.abs().max())
    at_layer = torch.nn.functional.interpolate(heat[None, None], size=info.grid, mode="area")
    assert float(at_layer.std()) > 0  # varies over the layer's own grid, not only between rows


def test_channels_last_inner_layers_are_recognized(loaded):
    _, model = loaded(7)  # swin: its stages keep (N, H, W, C)
    stage = model.layer_info("layers.2")
    assert stage.layout == CHANNELS_LAST and stage.grid == (4, 4) and stage.channels == 384
    _, model = loaded(8)  # maxvit: window / grid attention inside runs channels-last
    layouts = {layer.layout for layer in model.layers if layer.has_grid}
    assert {CHANNELS_FIRST, CHANNELS_LAST} <= layouts


def test_token_grids_with_registers_and_non_square_inputs():
    assert token_grid(21, prefix=5) == (4, 4)
    assert token_grid(20, prefix=4) == (4, 4)
    assert token_grid(201) == (14, 14)  # class + 4 registers, guessed
    assert token_grid(16, prefix=1, aspect=(48, 80)) == (3, 5)
    assert token_grid(141, prefix=1, aspect=(160, 224)) == (10, 14)
    assert detect_layout((1, 141, 192), None, (160, 224), prefix=1)[:2] == (TOKENS, (10, 14))
    assert detect_layout((1, 5, 7, 320), None, (160, 224))[:2] == (CHANNELS_LAST, (5, 7))
    assert detect_layout((1, 320, 5, 7), None, (160, 224))[:2] == (CHANNELS_FIRST, (5, 7))


def test_load_by_name_with_its_own_preprocessing_and_labels():
    model = load_model("timm:resnet18.a1_in1k:random")
    assert model.name == "timm:resnet18.a1_in1k:random" and model.input_size == (224, 224)
    assert model.labels[0] == "tench" and model.num_classes == 1000
    assert model.default_cam_layer == "layer4"
    assert model.extras["interpolation"] == "bicubic" and model.extras["crop_pct"] == 0.95
    again = load_model("timm:resnet18.a1_in1k:random")
    x = torch.rand(1, 3, 224, 224)
    with torch.inference_mode():
        torch.testing.assert_close(model.module(x), again.module(x))  # seeded the same


def test_model_input_follows_timms_eval_transform():
    from PIL import Image

    from workbench.core.preprocess import model_input

    model = load_model("timm:resnet18.a1_in1k:random")
    rng = np.random.default_rng(0)
    small = rng.random((6, 8, 3)).astype(np.float32)
    image = np.asarray(Image.fromarray((small * 255).astype(np.uint8)).resize(
        (400, 300), Image.BILINEAR), dtype=np.float32) / 255  # smooth: resamplers agree
    ours = model_input(model, image)[0]
    cfg = timm.data.resolve_model_data_config(model.module.net)
    transform = timm.data.create_transform(**cfg)
    theirs = transform(Image.fromarray((image * 255).round().astype(np.uint8)))
    theirs = theirs * torch.tensor(cfg["std"]).view(3, 1, 1) + torch.tensor(cfg["mean"]).view(
        3, 1, 1)
    assert ours.shape == theirs.shape
    assert float((ours - theirs).abs().mean()) < 0.012  # 0.027 without the crop


def fake_cache(root, repo: str, state: dict):
    """A Hugging Face cache holding ``repo``'s model.safetensors."""
    from safetensors.torch import save_file

    folder = root / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("0" * 40)
    snapshot = folder / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in state.items()}, snapshot / "model.safetensors")


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """An empty Hugging Face cache and no network."""
    import huggingface_hub.constants

    def refuse(*_args, **_kwargs):
        raise OSError("no network in this test")

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(socket, "create_connection", refuse)
    return tmp_path


def test_missing_weights_name_the_repository_and_download(offline):
    with pytest.raises(WeightsNotCachedError) as info:
        load_model("timm:resnet18.a1_in1k")
    text = str(info.value)
    assert "timm/resnet18.a1_in1k" in text and "--download" in text and ":random" in text
    with pytest.raises(ModelLoadError, match="unreachable"):
        load_model("timm:resnet18.a1_in1k", download=True)


def test_cached_weights_load_offline(offline):
    torch.manual_seed(3)
    reference = timm.create_model("resnet18.a1_in1k").eval()
    fake_cache(offline, "timm/resnet18.a1_in1k", reference.state_dict())
    model = load_model("timm:resnet18.a1_in1k")
    assert "timm/resnet18.a1_in1k/model.safetensors" in model.source
    x = torch.rand(1, 3, 224, 224)
    mean, std = model.module.mean.view(1, 3, 1, 1), model.module.std.view(1, 3, 1, 1)
    with torch.inference_mode():
        torch.testing.assert_close(model.module(x), reference((x - mean) / std))


def test_unknown_name_suggests_close_ones():
    with pytest.raises(ModelLoadError, match="resnet18"):
        load_model("timm:resnet81:random")


def test_without_timm_the_message_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "timm", None)
    monkeypatch.delitem(sys.modules, "workbench.core.models.timm_zoo", raising=False)
    with pytest.raises(ModelLoadError, match=r'pip install -e "\.\[timm\]"'):
        load_model("timm:resnet18:random")
