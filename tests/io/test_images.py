"""Image loading over bad and unusual files made here (never downloaded)."""

import io
import os

import numpy as np
import pytest
from PIL import Image

from workbench.errors import ImageLoadError
from workbench.io.images import MAX_PIXELS, expand_paths, load_image


def save(img: Image.Image, path, **kwargs):
    img.save(path, **kwargs)
    return path


def gradient(w=64, h=48):
    x = np.linspace(0, 255, w, dtype=np.uint8)
    return np.stack([np.tile(x, (h, 1))] * 3, axis=2)


def test_rgb_png_values(tmp_path):
    data = gradient()
    image = load_image(save(Image.fromarray(data), tmp_path / "a.png"))
    assert image.dtype == np.float32 and image.shape == (48, 64, 3)
    np.testing.assert_allclose(image, data / 255.0, atol=1e-6)


@pytest.mark.parametrize("fmt,ext", [("JPEG", "jpg"), ("BMP", "bmp"), ("TIFF", "tif"),
                                     ("WEBP", "webp"), ("GIF", "gif")])
def test_common_formats(tmp_path, fmt, ext):
    image = load_image(save(Image.fromarray(gradient()), tmp_path / f"a.{ext}", format=fmt))
    assert image.shape == (48, 64, 3) and 0 <= image.min() and image.max() <= 1


def test_sixteen_bit_greyscale_scales_by_its_range(tmp_path):
    data = np.full((10, 12), 65535 // 2, dtype=np.uint16)
    image = load_image(save(Image.fromarray(data), tmp_path / "g16.png"))
    np.testing.assert_allclose(image, 0.5, atol=1e-3)


def test_sixteen_bit_tiff_float(tmp_path):
    data = np.linspace(0, 1, 120, dtype=np.float32).reshape(10, 12)
    image = load_image(save(Image.fromarray(data, mode="F"), tmp_path / "f.tif"))
    np.testing.assert_allclose(image[..., 0], data, atol=1e-6)


def test_greyscale_palette_and_transparency(tmp_path):
    grey = load_image(save(Image.new("L", (5, 4), 255), tmp_path / "l.png"))
    assert grey.shape == (4, 5, 3) and np.allclose(grey, 1.0)
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([255, 0, 0] + [0, 0, 0] * 255)
    palette.info["transparency"] = 0
    out = load_image(save(palette, tmp_path / "p.png", transparency=0))
    np.testing.assert_allclose(out, 0.5, atol=1e-6)  # fully transparent → neutral grey


def test_rgba_is_composited_on_grey(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[0, 0, 3] = 255
    image = load_image(save(Image.fromarray(rgba, "RGBA"), tmp_path / "a.png"))
    np.testing.assert_allclose(image[0, 0], [1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(image[1, 1], [0.5, 0.5, 0.5], atol=1e-6)


def test_cmyk_jpeg(tmp_path):
    image = load_image(save(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), tmp_path / "c.jpg"))
    assert image[..., 0].mean() > 0.9 and image[..., 1].mean() < 0.1


def test_exif_orientation_is_applied(tmp_path):
    img = Image.fromarray(gradient(40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    image = load_image(save(img, tmp_path / "rot.jpg", exif=exif.tobytes()))
    assert image.shape == (40, 20, 3)


def test_animated_gif_gives_first_frame(tmp_path):
    frames = [Image.new("RGB", (6, 6), c) for c in ((255, 0, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    image = load_image(path)
    assert image[..., 0].mean() > 0.9 and image[..., 2].mean() < 0.1


def test_multi_page_rgb_tiff_gives_its_first_page(tmp_path):
    pages = [Image.new("RGB", (40, 30), colour) for colour in ("red", "green", "blue")]
    path = tmp_path / "pages.tif"
    pages[0].save(path, save_all=True, append_images=pages[1:], compression="tiff_lzw")
    image = load_image(path)
    assert image.shape == (30, 40, 3) and np.allclose(image[0, 0], (1, 0, 0))


def test_tiny_and_very_long_images(tmp_path):
    assert load_image(save(Image.new("RGB", (1, 1)), tmp_path / "1.png")).shape == (1, 1, 3)
    long = load_image(save(Image.new("RGB", (40000, 1)), tmp_path / "long.png"))
    assert long.shape[1] <= 2048 and long.shape[0] == 1


def test_large_images_are_downscaled(tmp_path):
    image = load_image(save(Image.new("RGB", (3000, 1500)), tmp_path / "big.png"))
    assert image.shape == (1024, 2048, 3)


def expect_error(path, fragment):
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    message = str(info.value)
    assert str(path) in message and fragment in message, message
    assert "\n" not in message
    return message


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    expect_error(path, "empty")


def test_text_renamed_to_png(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not an image\n")
    expect_error(path, "not an image")


@pytest.mark.parametrize("fmt,ext", [("PNG", "png"), ("JPEG", "jpg")])
def test_truncated_files(tmp_path, fmt, ext):
    buffer = io.BytesIO()
    Image.fromarray((np.random.rand(64, 64, 3) * 255).astype(np.uint8)).save(buffer, format=fmt)
    path = tmp_path / f"cut.{ext}"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    expect_error(path, "truncated")


def test_wrong_extension_still_opens(tmp_path):
    path = save(Image.fromarray(gradient()), tmp_path / "really_png.jpg", format="PNG")
    assert load_image(path).shape == (48, 64, 3)


def test_decompression_bomb_is_refused(tmp_path):
    side = int((MAX_PIXELS * 1.2) ** 0.5)
    path = tmp_path / "bomb.png"
    Image.new("1", (side, side)).save(path)  # a few kB on disk, ~100 megapixels
    assert path.stat().st_size < 2_000_000
    expect_error(path, "too large")


def test_missing_folder_and_permissions(tmp_path):
    expect_error(tmp_path / "nope.png", "not found")
    expect_error(tmp_path, "folder")
    locked = save(Image.new("RGB", (4, 4)), tmp_path / "locked.png")
    os.chmod(locked, 0)
    try:
        if os.access(locked, os.R_OK):  # running as root: permissions are not enforced
            pytest.skip("cannot drop read permission as root")
        expect_error(locked, "permission")
    finally:
        os.chmod(locked, 0o644)


def test_unusual_file_names(tmp_path):
    name = "é" * 60 + "ü" * 60 + ".png"
    path = save(Image.new("RGB", (3, 3)), tmp_path / name)
    assert load_image(path).shape == (3, 3, 3)
    raw = os.fsencode(tmp_path) + b"/bad-\xff\xfe.png"
    with open(raw, "wb") as handle:
        Image.new("RGB", (2, 2)).save(handle, format="PNG")
    found = expand_paths([tmp_path])
    assert len(found) == 2
    assert all(load_image(p).shape[2] == 3 for p in found)


def test_folder_lists_only_images(tmp_path):
    save(Image.new("RGB", (3, 3)), tmp_path / "b.png")
    save(Image.new("RGB", (3, 3)), tmp_path / "a.jpg")
    (tmp_path / "readme.txt").write_text("x")
    assert [p.name for p in expand_paths([tmp_path])] == ["a.jpg", "b.png"]
