"""Feature extraction: pooling rules, equality with a plain forward pass, overlapped decoding,
cancellation without leftovers, and the on-disk cache."""

import os
import threading
import time

import numpy as np
import pytest
import torch

from tests.core.attribution.tiny import hook_count
from tests.core.embedding.conftest import write_image
from tests.helpers import CancelAfter
from workbench.core.embedding import (
    arrays_dataset,
    cached_features,
    default_layer,
    extract_features,
    feature_key,
    folder_dataset,
    pool,
)
from workbench.core.preprocess import to_pixels
from workbench.errors import Cancelled, InputError


def random_images(n, seed=0, size=(18, 22)):
    rng = np.random.default_rng(seed)
    return [(f"img{i}", rng.random((*size, 3)).astype(np.float32)) for i in range(n)]


def test_pooling_rules():
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).view(2, 3, 4, 5)
    torch.testing.assert_close(pool(x), x.mean(dim=(2, 3)))
    clip = torch.rand(2, 3, 4, 5, 6)
    torch.testing.assert_close(pool(clip), clip.mean(dim=(2, 3, 4)))
    tokens = torch.rand(2, 1 + 9, 7)
    torch.testing.assert_close(pool(tokens), tokens[:, 0])
    sequence = torch.rand(2, 6, 7)  # no class token: averaged
    torch.testing.assert_close(pool(sequence), sequence.mean(dim=1))
    flat = torch.rand(2, 7, dtype=torch.float64)
    assert pool(flat).dtype == torch.float32


def test_default_layer_is_the_penultimate(digits_model, tiny_model, lite0):
    assert default_layer(digits_model) == "relu4"
    assert default_layer(tiny_model) == "tokens"
    assert default_layer(lite0) == "_avg_pooling"


@pytest.mark.parametrize("layer", ["relu", "tokens", "fc"])
def test_features_equal_a_plain_forward_pass(tiny_model, layer):
    images = random_images(7)
    seen = {}
    module = tiny_model.layer_module(layer)
    handle = module.register_forward_hook(lambda m, i, o: seen.__setitem__("out", o))
    try:
        with torch.inference_mode():
            tiny_model.module(torch.cat([to_pixels(im, tiny_model.input_size)
                                         for _, im in images]))
    finally:
        handle.remove()
    expected = pool(seen["out"]).numpy()
    for workers in (0, 1, 2):
        features = extract_features(tiny_model, arrays_dataset(images), layer,
                                    batch_size=3, workers=workers)
        np.testing.assert_allclose(features.features, expected, rtol=1e-5, atol=1e-6)
        assert features.names == [name for name, _ in images]


def test_later_layers_are_skipped_after_the_first_batch(tiny_model):
    calls = []
    handle = tiny_model.layer_module("fc").register_forward_hook(lambda *a: calls.append(1))
    try:
        extract_features(tiny_model, arrays_dataset(random_images(6)), "relu", batch_size=2)
    finally:
        handle.remove()
    assert len(calls) == 1  # only the first of three batches ran to the end


def test_unknown_layer_and_hooks_after_errors(tiny_model):
    before = hook_count(tiny_model.module)
    with pytest.raises(InputError, match="no layer 'nope'"):
        extract_features(tiny_model, arrays_dataset(random_images(2)), "nope")
    assert hook_count(tiny_model.module) == before


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_cancel_mid_extraction_leaves_no_hooks_or_threads(digits_model, workers):
    from workbench.core.embedding import digits_dataset

    before = hook_count(digits_model.module)
    progress = []
    ctx = CancelAfter(300)
    ctx._on_progress = lambda f, m: progress.append(f)
    with pytest.raises(Cancelled):
        extract_features(digits_model, digits_dataset(), ctx=ctx, batch_size=64,
                         workers=workers)
    assert hook_count(digits_model.module) == before
    assert progress and 0 < progress[-1] < 1
    deadline = time.monotonic() + 5
    while any(t.name.startswith("embed-") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a decoding thread outlived the job"
        time.sleep(0.05)


class ForwardCounter:
    """Counts forward passes of a model (hook removed on exit)."""

    def __init__(self, model):
        self.model, self.calls = model, 0

    def __enter__(self):
        def hook(*_):
            self.calls += 1

        self.handle = self.model.module.register_forward_pre_hook(hook)
        return self

    def __exit__(self, *_):
        self.handle.remove()


def test_cache_is_reused_and_invalidated_when_a_file_changes(tmp_path, tiny_model):
    folder = tmp_path / "images"
    paths = [write_image(folder / f"{i}.png", i) for i in range(5)]
    (folder / "broken.png").write_bytes(b"junk")
    with ForwardCounter(tiny_model) as counter:
        first = cached_features(tiny_model, folder_dataset(folder), "relu", batch_size=2)
    assert counter.calls == 3 and not first.from_cache
    cache = tmp_path / "feature-cache"
    assert [p.name for p in cache.iterdir()] == [f"{first.key}.npz"]  # no temporary left

    with ForwardCounter(tiny_model) as counter:
        start = time.perf_counter()
        second = cached_features(tiny_model, folder_dataset(folder), "relu")
        elapsed = time.perf_counter() - start
    assert counter.calls == 0 and second.from_cache and elapsed < 1.0
    np.testing.assert_array_equal(second.features, first.features)
    assert second.names == first.names and second.skipped == first.skipped
    np.testing.assert_array_equal(second.labels, first.labels)

    write_image(paths[2], 99)  # new content, and a new modification time for certain
    stat = paths[2].stat()
    os.utime(paths[2], ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    with ForwardCounter(tiny_model) as counter:
        third = cached_features(tiny_model, folder_dataset(folder), "relu", batch_size=8)
    assert counter.calls == 1 and not third.from_cache and third.key != first.key
    assert not np.allclose(third.features[2], first.features[2])
    np.testing.assert_allclose(third.features[[0, 1, 3, 4]], first.features[[0, 1, 3, 4]],
                               rtol=1e-5, atol=1e-6)


def test_cache_key_depends_on_layer_model_and_inputs(tiny_model, digits_model):
    images = random_images(3)
    key = feature_key(tiny_model, arrays_dataset(images), "relu")
    assert key == feature_key(tiny_model, arrays_dataset(images), "relu")
    assert key != feature_key(tiny_model, arrays_dataset(images), "tokens")
    assert key != feature_key(tiny_model, arrays_dataset(random_images(3, seed=1)), "relu")
    images[0][1][0, 0, 0] += 0.5  # one pixel of one array
    assert key != feature_key(tiny_model, arrays_dataset(images), "relu")


def test_a_damaged_cache_entry_is_recomputed(tmp_path, tiny_model):
    dataset = arrays_dataset(random_images(3))
    first = cached_features(tiny_model, dataset, "relu")
    (tmp_path / "feature-cache" / f"{first.key}.npz").write_bytes(b"garbage")
    again = cached_features(tiny_model, dataset, "relu")
    assert not again.from_cache
    np.testing.assert_allclose(again.features, first.features)
