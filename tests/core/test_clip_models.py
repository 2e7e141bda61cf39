"""Clip models (kind "video"): spatiotemporal CAMs with both weightings against a hand
computation, 5-D gradient maps on torchvision's clip models, labels and clip lengths from
their weights' metadata, batches sized from memory, and clips sliding over a video."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from tests.io.video_corpus import make_video
from workbench.core import memory
from workbench.core.attribution import attribute
from workbench.core.models.registry import load_model, wrap_model
from workbench.core.video.clip_runs import clip_maps, clip_predictions
from workbench.core.video.clips import ClipSpec, clip_indices, clip_starts, clips_to_input
from workbench.errors import InputError


class Tiny3d(nn.Module):
    """conv3d → ReLU → spatial pool → linear over (channels × time): a 3D CNN small enough
    to compute by hand, whose gradients differ between time steps."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv3d(3, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool3d((4, 1, 1))
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc(self.pool(self.relu(self.conv(x))).flatten(1))


@pytest.fixture(scope="module")
def tiny():
    prep = {"mean": (0.5,) * 3, "std": (0.5,) * 3, "input_size": (8, 8), "num_frames": 4}
    return wrap_model(Tiny3d(), prep, ["a", "b", "c"], "tiny3d", "test", "video", "cpu")


def _by_hand(model, x, target, per_time: bool):
    net = model.module.net
    activation = net.relu(net.conv(model.module.normalize(x))).detach().requires_grad_(True)
    score = net.fc(net.pool(activation).flatten(1))[0, target]
    (gradient,) = torch.autograd.grad(score, activation)
    dims = (3, 4) if per_time else (2, 3, 4)
    weights = gradient.mean(dim=dims, keepdim=True)
    return (weights * activation).sum(1).relu().detach()


@pytest.mark.parametrize("weighting", ["clip", "per-time"])
def test_spatiotemporal_gradcam_equals_the_hand_computation(tiny, weighting):
    x = torch.rand(1, 3, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    result = attribute(tiny, x, "gradcam", layer="relu", targets=[2],
                       params={"weighting": weighting})
    expected = _by_hand(tiny, x, 2, weighting == "per-time")
    assert result.maps.shape == (1, 4, 8, 8)
    torch.testing.assert_close(result.maps, expected, rtol=1e-5, atol=1e-6)
    assert result.extras["weighting"] == weighting
    assert "time slice" in result.extras["weighting_text"] or weighting == "clip"


def test_the_two_weightings_differ_over_time(tiny):
    x = torch.rand(1, 3, 4, 8, 8, generator=torch.Generator().manual_seed(2))
    x[:, :, 2:] = 1.0 - x[:, :, 2:]  # the second half of the clip differs
    clip = attribute(tiny, x, "gradcam", layer="relu", params={"weighting": "clip"}).maps
    per_time = attribute(tiny, x, "gradcam", layer="relu",
                         params={"weighting": "per-time"}).maps
    assert not torch.allclose(clip, per_time)


@pytest.fixture(scope="module",
                params=["r3d_18", "s3d", pytest.param("mvit_v1_b", marks=pytest.mark.slow)])
def zoo_clip_model(request):
    return load_model(request.param + ":random")


CHEAP = {"gradcam": {"weighting": "per-time"}, "saliency": None,
         "smoothgrad": {"samples": 2}, "integrated-gradients": {"steps": 2}}


@pytest.mark.parametrize("method", list(CHEAP))
def test_5d_gradient_maps_on_torchvision_clip_models(zoo_clip_model, method):
    model = zoo_clip_model
    x = torch.rand(model.input_shape(1), generator=torch.Generator().manual_seed(0))
    maps = attribute(model, x, method, params=CHEAP[method]).maps
    assert maps.shape == (1, model.num_frames, *model.input_size)
    assert torch.isfinite(maps).all()


def test_clip_length_labels_and_rate_from_the_metadata(zoo_clip_model):
    model = zoo_clip_model
    assert len(model.labels) == 400 and model.labels[0] == "abseiling"  # Kinetics-400
    assert model.num_frames == 16 and model.kind == "video"
    rate = 7.5 if model.name.startswith("mvit") else 15.0  # as their weights' docs say
    assert model.extras.get("frame_rate") == rate


def test_batches_are_sized_from_memory_before_allocating(monkeypatch):
    model = load_model("r3d_18:random")
    per_input = memory.bytes_per_input(model, "grad")
    assert per_input > 4 * np.prod(model.input_shape(1))  # activations, not only the input
    monkeypatch.setattr(memory, "available_bytes", lambda _device: 3 * per_input)
    assert memory.fit_batch(model, 32) == 1
    monkeypatch.setattr(memory, "available_bytes", lambda _device: 1000 * per_input)
    assert memory.fit_batch(model, 32) == 32


def test_clip_indices_and_sliding_starts():
    spec = ClipSpec(frames=4, step=2, stride=3)
    assert spec.span == 7
    assert clip_indices(0, spec, 100).tolist() == [0, 2, 4, 6]
    assert clip_indices(95, spec, 100).tolist() == [95, 97, 99, 99]  # the last repeats
    assert clip_starts(spec, 20).tolist() == [0, 3, 6, 9, 12]
    assert clip_starts(spec, 5).tolist() == [0]  # a short video still gives one clip
    with pytest.raises(InputError, match="frame step"):
        ClipSpec(frames=4, step=0)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("clips") / "pattern.mp4", frames=30)


def test_clip_predictions_equal_the_model_on_each_clip(tiny, video):
    from workbench.io.video import VideoReader

    spec = ClipSpec(frames=4, step=2, stride=5)
    result = clip_predictions(tiny, video, spec)
    assert result.done == len(result.starts) == len(clip_starts(spec, 30))
    with VideoReader(video) as reader:
        for row, start in enumerate(result.starts):
            frames = np.stack([reader.frame_uint8(int(i))
                               for i in clip_indices(int(start), spec, 30)])
            with torch.inference_mode():
                probs = torch.softmax(tiny.module(clips_to_input(tiny, frames)), 1)[0]
            np.testing.assert_allclose(result.probs[row], probs.numpy(), rtol=1e-4, atol=1e-6)
            assert result.indices[row] == start + spec.span // 2


def test_clip_maps_cover_every_frame_of_every_clip(tiny, video):
    spec = ClipSpec(frames=4, step=1)
    maps = clip_maps(tiny, video, spec, "gradcam", layer="relu",
                     params={"weighting": "per-time"})
    assert maps.indices.tolist() == list(range(28))  # 7 clips of 4 frames
    assert maps.done == 28 and np.isfinite(maps.maps).all()
    assert maps.extras["weighting"] == "per-time"


def test_an_image_model_is_refused_for_clips(lite0, video):
    with pytest.raises(InputError, match="clip model"):
        clip_predictions(lite0, video, ClipSpec(4))
