"""The Model inspector's core: the students' convolution questions answered exactly, the
unrolled matrix against ``F.conv2d``, parameter and MAC totals against PyTorch, published
receptive fields (Araujo et al., Distill 2019), and the effective receptive field inside
the theoretical box."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from workbench.core.inspect import (
    conv_answer,
    conv_matrix,
    effective_receptive_field,
    inspect_model,
    receptive_box,
)
from workbench.core.models.loaded import LoadedModel, PixelModel
from workbench.core.models.registry import load_model, wrap_model
from workbench.errors import InputError

PREP = {"mean": (0.5,) * 3, "std": (0.5,) * 3, "input_size": (32, 32)}
LABELS = [str(i) for i in range(10)]


def tiny(net, name="tiny"):
    return wrap_model(net, PREP, LABELS, name, "test", "image", "cpu")


@pytest.fixture(scope="module")
def resnet18():
    return load_model("resnet18:random")


def test_seven_by_seven_stride_three_on_28():
    answer = conv_answer(28, 28, 1, 7, 1, stride=3)
    assert answer.output == (8, 8, 1) and answer.input == (28, 28, 1)
    assert answer.matrix_shape == (64, 784) and answer.nonzeros == 3136
    assert "784×64" in answer.formulas["matrix"] and "1×64" in answer.formulas["output"]
    assert "⌊(28 − 7 + 2·0)/3⌋ + 1 = 8" in answer.formulas["output"]
    assert answer.receptive_field == 7 and answer.jump == 3


def test_first_layer_parameters():
    answer = conv_answer(28, 28, 1, 5, 16)
    assert answer.params == 16 * (5 * 5) + 16 == 416
    assert answer.output == (24, 24, 16) and answer.macs == 24 * 24 * 16 * 25
    assert answer.formulas["params"].startswith("5·5·1·16 + 16 = 416")


def test_lecture_example_two_by_two_kernel_on_three_by_three():
    answer = conv_answer(3, 3, 1, 2, 1)
    assert answer.output == (2, 2, 1) and answer.matrix_shape == (4, 9)
    matrix = conv_matrix(3, 3, 1, 2, weights=np.array([[1, 2], [3, 4]]))
    assert matrix.shape == (4, 9) and ((matrix != 0).sum(axis=1) == 4).all()
    np.testing.assert_array_equal(matrix[0], [1, 2, 0, 3, 4, 0, 0, 0, 0])
    np.testing.assert_array_equal(matrix[3], [0, 0, 0, 0, 1, 2, 0, 3, 4])
    assert (conv_matrix(3, 3, 1, 2) != 0).sum() == answer.nonzeros == 16


@pytest.mark.parametrize("h, w, c, k, cout, s, p, d", [
    (6, 7, 2, 3, 3, 1, 1, 1), (9, 8, 3, 3, 2, 2, 0, 1), (10, 10, 1, 3, 2, 1, 2, 2),
    (28, 28, 1, 7, 1, 3, 0, 1)])
def test_conv_matrix_equals_conv2d(h, w, c, k, cout, s, p, d):
    gen = torch.Generator().manual_seed(0)
    weights = torch.randn(cout, c, k, k, generator=gen, dtype=torch.float64)
    x = torch.randn(1, c, h, w, generator=gen, dtype=torch.float64)
    expected = F.conv2d(x, weights, stride=s, padding=p, dilation=d)[0]
    matrix = conv_matrix(h, w, c, k, cout, s, p, d, weights=weights.numpy())
    got = matrix @ x[0].permute(1, 2, 0).reshape(-1).numpy()
    np.testing.assert_allclose(got, expected.permute(1, 2, 0).reshape(-1).numpy(), atol=1e-9)
    assert (matrix != 0).sum() == conv_answer(h, w, c, k, cout, s, p, d).nonzeros


def test_bad_convolutions_are_refused():
    with pytest.raises(InputError, match="does not fit"):
        conv_answer(4, 4, 1, 7, 1)
    with pytest.raises(InputError, match="positive"):
        conv_answer(28, 28, 1, 3, 1, stride=0)
    with pytest.raises(InputError, match="entries"):
        conv_matrix(224, 224, 3, 3, 8)


def test_two_stacked_three_by_three_see_five_by_five():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))
    table = inspect_model(tiny(net))
    first, second = table.row("0"), table.row("2")
    assert first.rf.size == (3, 3) and second.rf.size == (5, 5) and second.rf.jump == (1, 1)
    assert second.formulas["rf"] == "r = 3 + (3 − 1)·1·1 = 5, j = 1·1 = 1"
    assert second.output_shape == (1, 4, 28, 28) and first.output_shape == (1, 4, 30, 30)
    assert table.row("3").rf.size == (5, 5)  # a ReLU keeps the field
    assert table.row("4").rf is None and "global pooling" in table.row("4").rf_note
    assert table.row("6").rf is None and table.row("6").rf_note
    assert receptive_box(second, (0, 0), (32, 32)) == (0, 0, 5, 5)
    assert receptive_box(second, (27, 27), (32, 32)) == (27, 27, 32, 32)


def test_row_formulas_filled_in(resnet18):
    row = inspect_model(resnet18).row("conv1")
    assert row.kernel == (7, 7) and row.stride == (2, 2) and row.padding == (3, 3)
    assert row.formulas["output"] == "⌊(224 − 7 + 2·3)/2⌋ + 1 = 112"
    assert row.formulas["params"] == "7·7·3/1·64 + 0 = 9 408"
    assert row.formulas["rf"] == "r = 1 + (7 − 1)·1·1 = 7, j = 1·2 = 2"
    assert row.output_shape == (1, 64, 112, 112) and row.activation_bytes == 64 * 112 * 112 * 4
    assert row.macs == 112 * 112 * 64 * 7 * 7 * 3


def check_params(table, net):
    assert table.totals["params_trainable"] == sum(p.numel() for p in net.parameters())
    assert table.totals["params_frozen"] == sum(b.numel() for b in net.buffers()
                                                if b.is_floating_point())
    top = sum(row.params_trainable for row in table.rows if row.depth == 1)
    own = sum(p.numel() for p in net.parameters(recurse=False))  # ViT's class token
    assert top + own == table.totals["params_trainable"]


@pytest.mark.parametrize("name", ["resnet18:random", "mobilenet_v3_small:random",
                                  "squeezenet1_0:random", "r3d_18:random"])
def test_totals_match_pytorch(name):
    model = load_model(name)
    table = inspect_model(model)
    net = model.module.net
    check_params(table, net)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.zeros(table.input_shape))
    assert table.totals["macs"] == pytest.approx(counter.get_total_flops() / 2, rel=0.01)


@pytest.fixture(scope="module")
def vit_on_meta():
    """ViT-B/16 built on the meta device: no weights, no loading time."""
    import torchvision

    with torch.device("meta"):
        net = torchvision.models.vit_b_16()
    module = PixelModel(net, (0.5,) * 3, (0.5,) * 3)
    return LoadedModel("vit_b_16:meta", module, "image", (224, 224), [], [], None,
                       torch.device("cpu"), "torchvision, meta")


def test_vit_on_meta_totals_and_fields(vit_on_meta):
    from torchvision.models import ViT_B_16_Weights

    table = inspect_model(vit_on_meta)
    check_params(table, vit_on_meta.module.net)
    # torchvision's published GFLOPS for ViT-B/16 are multiply-adds (17.56)
    published = ViT_B_16_Weights.IMAGENET1K_V1.meta["_ops"] * 1e9
    assert table.totals["macs"] == pytest.approx(published, rel=0.01)
    assert table.row("conv_proj").rf.size == (16, 16)
    attention = table.row("encoder.layers.encoder_layer_0.self_attention")
    assert attention.rf is None and attention.rf_note
    assert attention.output_shape == (1, 197, 768)


@pytest.mark.parametrize("name, layer, size, jump", [
    ("alexnet:random", "features.10", 163, 16), ("alexnet:random", "features.12", 195, 32),
    ("vgg16:random", "features.30", 212, 32), ("resnet18:random", "layer4", 435, 32)])
def test_published_receptive_fields(name, layer, size, jump):
    row = inspect_model(load_model(name)).row(layer)
    assert row.rf.size == (size, size) and row.rf.jump == (jump, jump)


def test_untraceable_model_falls_back_to_a_chain():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3, stride=2)
            self.fc = nn.Linear(4, 10)

        def forward(self, x):
            x = self.a(x)
            if x.shape[-1] > 4:
                x = self.b(x)
            return self.fc(x.mean((2, 3)))

    table = inspect_model(tiny(Branchy(), "branchy"))
    assert table.row("b").rf.size == (5, 5) and table.row("b").rf.jump == (2, 2)
    assert "chain" in table.row("b").rf_note


def test_input_size_changes_the_shapes(resnet18):
    table = inspect_model(resnet18, input_size=(160, 128))
    assert table.input_shape == (1, 3, 160, 128)
    assert table.row("layer4").output_shape == (1, 512, 5, 4)


def test_effective_field_inside_the_theoretical_box(resnet18):
    row = inspect_model(resnet18).row("layer2")
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    for position, channel in [((14, 14), None), ((0, 0), None), ((27, 20), None),
                              ((10, 5), 3)]:
        erf = effective_receptive_field(resnet18, "layer2", x, position, channel=channel)
        top, left, bottom, right = receptive_box(row, position, (224, 224))
        assert erf.shape == (224, 224) and (channel is not None or erf.sum() > 0)
        inside = np.zeros_like(erf, dtype=bool)
        inside[top:bottom, left:right] = True
        assert not erf[~inside].any()
    assert not any(m._forward_hooks for m in resnet18.module.modules())


def test_effective_field_of_a_layer_without_grid(resnet18):
    x = torch.rand(1, 3, 224, 224)
    with pytest.raises(InputError, match="grid"):
        effective_receptive_field(resnet18, "fc", x, (0, 0))


def _all_zoo_models():
    import torchvision

    return [*torchvision.models.list_models(module=torchvision.models),
            *torchvision.models.list_models(module=torchvision.models.video)]


@pytest.fixture
def no_init(monkeypatch):
    """Building every zoo model (RegNet-128GF has 644 M weights) in seconds: the weight
    initializers do nothing, so the tensors are allocated but never written."""
    for name in ("kaiming_uniform_", "kaiming_normal_", "normal_", "uniform_", "zeros_",
                 "ones_", "constant_", "xavier_uniform_", "xavier_normal_", "trunc_normal_",
                 "orthogonal_"):
        monkeypatch.setattr(torch.nn.init, name, lambda tensor, *_a, **_k: tensor)


@pytest.mark.parametrize("name", _all_zoo_models())
def test_parameter_totals_for_every_zoo_model(name, no_init):
    """Every torchvision classification and video model: the inspector's totals equal
    ``sum(p.numel())``, and each module's count is its own plus its children's."""
    import torchvision

    from workbench.core.inspect.table import parameter_counts

    try:
        with torch.device("meta"):
            net = torchvision.models.get_model(name)
    except NotImplementedError:  # builders that compute with tensors (RegNet's widths)
        net = torchvision.models.get_model(name)
    counts = parameter_counts(net)
    assert counts[""][0] == sum(p.numel() for p in net.parameters())
    for child, mod in net.named_children():
        assert counts[child][0] == sum(p.numel() for p in mod.parameters())
