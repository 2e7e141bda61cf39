import numpy as np
import pytest
from PIL import Image

from workbench.errors import WorkbenchError
from workbench.io.atomic import write_bytes_atomic
from workbench.io.export import save_png
from workbench.io.images import load_image
from workbench.io.samples import SAMPLES, available_samples


def test_every_sample_is_bundled_and_opens():
    assert [s.name for s in available_samples()] == [s.name for s in SAMPLES]
    for sample in SAMPLES:
        image = load_image(sample.path())
        assert image.ndim == 3 and image.shape[2] == 3


def test_png_roundtrip_with_metadata(tmp_path):
    image = np.random.rand(5, 6, 3).astype(np.float32)
    path = save_png(tmp_path / "x.png", image, {"Caption": "model: lite0 · layer _act1"})
    reread = Image.open(path)
    assert reread.text["Caption"] == "model: lite0 · layer _act1"
    np.testing.assert_allclose(load_image(path), image, atol=0.5 / 255 + 1e-6)


def test_atomic_write_refuses_to_overwrite_when_asked(tmp_path):
    target = tmp_path / "a.bin"
    write_bytes_atomic(target, b"one")
    with pytest.raises(WorkbenchError, match="already exists"):
        write_bytes_atomic(target, b"two", overwrite=False)
    assert target.read_bytes() == b"one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_atomic_writes_get_the_usual_permissions(tmp_path):
    import os
    import stat

    from workbench.io.atomic import write_bytes_atomic

    mask = os.umask(0o022)
    try:
        path = write_bytes_atomic(tmp_path / "figure.png", b"x")
        assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not mkstemp's 0600
    finally:
        os.umask(mask)
