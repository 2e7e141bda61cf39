"""Every registered method on a small CNN, a ViT and an r3d_18 (random weights):
finite maps of the right shape, and no hook left after success, error or cancel."""

import pytest
import torch
from torchvision.models import resnet18
from torchvision.models.video import r3d_18
from torchvision.models.vision_transformer import VisionTransformer

from tests.core.attribution.tiny import hook_count
from tests.helpers import CancelAfter
from workbench.core.attribution import METHOD_ORDER, METHODS, attribute
from workbench.core.models.registry import wrap_model
from workbench.errors import Cancelled, InputError

FAST = {
    "scorecam": {"max_channels": 6},
    "smoothgrad": {"samples": 3},
    "integrated-gradients": {"steps": 3},
}


def build(kind):
    torch.manual_seed(0)
    if kind == "cnn":
        net, prep = resnet18(num_classes=7), {"input_size": (64, 64)}
    elif kind == "vit":
        net = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                hidden_dim=16, mlp_dim=32, num_classes=7)
        torch.nn.init.normal_(net.heads.head.weight)  # torchvision starts it at zero
        prep = {"input_size": (32, 32)}
    else:
        net, prep = r3d_18(num_classes=7), {"input_size": (48, 48), "num_frames": 4}
    prep.update(mean=(0.45,) * 3, std=(0.25,) * 3)
    model = wrap_model(net, prep, [str(i) for i in range(7)], kind, "test",
                       "video" if kind == "video" else "image", torch.device("cpu"))
    return model


MODELS = {}


def model_for(kind):
    if kind not in MODELS:
        MODELS[kind] = build(kind)
    return MODELS[kind]


def unsupported(method, kind):
    return (method == "attention-rollout" and kind != "vit")


def test_registry_has_every_method_of_the_issue():
    assert set(METHOD_ORDER) == set(METHODS)


@pytest.mark.parametrize("kind", ["cnn", "vit", "video"])
@pytest.mark.parametrize("method", METHOD_ORDER)
def test_method_returns_finite_maps_and_leaves_no_hooks(method, kind):
    model = model_for(kind)
    x = torch.rand(model.input_shape(2), generator=torch.Generator().manual_seed(1))
    before = hook_count(model.module)
    if unsupported(method, kind):
        with pytest.raises(InputError):
            attribute(model, x, method, params=FAST.get(method))
        assert hook_count(model.module) == before
        return
    result = attribute(model, x, method, params=FAST.get(method))
    assert result.maps.shape == (2, *x.shape[2:])
    assert torch.isfinite(result.maps).all()
    assert (result.maps >= 0).all()
    assert len(result.targets) == 2
    assert hook_count(model.module) == before
    assert not any(p.requires_grad for p in model.module.parameters())


@pytest.mark.parametrize("method", METHOD_ORDER)
def test_no_hooks_after_cancel_or_error(method):
    model = model_for("vit")
    x = torch.rand(model.input_shape(1))
    before = hook_count(model.module)
    with pytest.raises(Cancelled):
        attribute(model, x, method, params=FAST.get(method), ctx=CancelAfter(0))
    assert hook_count(model.module) == before
    with pytest.raises(InputError):
        attribute(model, x, method, targets=[99], params=FAST.get(method))
    assert hook_count(model.module) == before


def test_errors_for_bad_layers_and_inputs():
    model = model_for("cnn")
    x = torch.rand(model.input_shape(1))
    with pytest.raises(InputError, match="no layer 'nope'"):
        attribute(model, x, "gradcam", layer="nope")
    with pytest.raises(InputError, match="expects a batch"):
        attribute(model, torch.rand(3, 64, 64), "gradcam")
    with pytest.raises(InputError, match="NaN"):
        attribute(model, x * float("nan"), "gradcam")
    with pytest.raises(InputError, match="layer output"):
        attribute(model, x, "gradcam", layer="fc")
    with pytest.raises(InputError, match="unknown parameter"):
        attribute(model, x, "scorecam", params={"bogus": 1})
    with pytest.raises(InputError, match="unknown attribution method"):
        attribute(model, x, "nonsense")


def test_a_batch_equals_single_calls():
    model = model_for("cnn")
    x = torch.rand(model.input_shape(3), generator=torch.Generator().manual_seed(2))
    batch = attribute(model, x, "gradcam", layer="layer3").maps
    for i in range(3):
        single = attribute(model, x[i : i + 1], "gradcam", layer="layer3").maps
        torch.testing.assert_close(batch[i : i + 1], single, rtol=1e-4, atol=1e-6)


def test_vit_token_layer_gives_a_grid_map():
    model = model_for("vit")
    assert model.layer_info(model.default_cam_layer).is_tokens
    maps = attribute(model, torch.rand(1, 3, 32, 32), "gradcam").maps
    assert maps.shape == (1, 32, 32) and maps.max() > 0


def test_video_cam_keeps_time():
    model = model_for("video")
    result = attribute(model, torch.rand(model.input_shape(1)), "gradcam", layer="layer2")
    assert result.maps.shape == (1, 4, 48, 48)
