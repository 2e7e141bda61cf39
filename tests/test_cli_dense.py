"""Detectors and segmenters on the command line: predict's boxes and class map in the
original image's pixels, cam / occlusion / attack through a detection or region target,
one-line errors, and the commands that need a classifier saying so."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import workbench.core.models as models
from tests.core.tasks.toys import BOXES, SIZE, toy_detector, toy_segmenter
from workbench.cli import main
from workbench.errors import ModelLoadError

TOYS = {"toy_detector": toy_detector, "toy_segmenter": toy_segmenter}
IMAGE_SIZE = (60, 90)  # (h, w) of the test pictures: neither the toys' 32×48 nor square
SCENE_SIZE = (136, 200)  # a digits scene squashed out of its 128×128


@pytest.fixture(scope="module", autouse=True)
def cached_models():
    """Each model loads once for the module (the toys by name); ``load_cli_model`` and its
    task check still run for every command."""
    cache, original = {}, models.load_model

    def load(spec, **kwargs):
        if spec not in cache:
            cache[spec] = TOYS[spec]() if spec in TOYS else original(spec, **kwargs)
        return cache[spec]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(models, "load_model", load)
        yield load


def builtin(name: str):
    """A built-in scene model, or a skip while its weights are still being trained."""
    try:
        return models.load_model(name)
    except ModelLoadError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    path = tmp_path_factory.mktemp("dense") / "noise.png"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((*IMAGE_SIZE, 3)) * 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A held-out digits scene resized to 200×136, so a swapped or missing scale shows."""
    from workbench.core.models.digit_scenes import save_sample_scene

    folder = tmp_path_factory.mktemp("scene")
    save_sample_scene(folder / "square.png", seed=3)
    resized = Image.open(folder / "square.png").resize(SCENE_SIZE[::-1], Image.BILINEAR)
    resized.save(folder / "scene.png")
    return folder / "scene.png"


def run(capsys, *args):
    """``(exit code, stdout, stderr)`` of one in-process command."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *args):
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def one_line_error(capsys, *args) -> str:
    code, _out, err = run(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("workbench: error:"), err
    return lines[0]


def test_predict_boxes_are_in_the_original_pictures_pixels(capsys, picture):
    summary = run_json(capsys, "predict", picture, "--model", "toy_detector", "--threshold", 0)
    scale = np.array([IMAGE_SIZE[1] / SIZE[1], IMAGE_SIZE[0] / SIZE[0]] * 2)
    by_class = {row["class"]: [row[k] for k in ("x0", "y0", "x1", "y1")]
                for row in summary["boxes"]}
    for label, box in enumerate(BOXES.numpy()):
        np.testing.assert_allclose(by_class[label], box * scale, rtol=1e-5)
    assert summary["image_size"] == list(IMAGE_SIZE) and summary["task"] == "detection"
    scores = [row["score"] for row in summary["boxes"]]
    assert scores == sorted(scores, reverse=True)
    kept = run_json(capsys, "predict", picture, "--model", "toy_detector", "--threshold", 0,
                    "--classes", "ring,0")
    assert sorted(row["label"] for row in kept["boxes"]) == ["disc", "ring"]


def test_digits_detector_predict_matches_detect(capsys, scene):
    import torch
    from torchvision.ops import box_iou

    from workbench.core.models.digit_scenes import make_scenes
    from workbench.core.tasks.detection import detect
    from workbench.io.images import load_image

    model = builtin("digits_detector")
    summary = run_json(capsys, "predict", scene, "--model", "digits_detector")
    expected = detect(model, load_image(scene), 0.5).as_rows()
    assert summary["boxes"] and len(summary["boxes"]) == len(expected)
    for got, want in zip(summary["boxes"], expected, strict=True):
        assert got == pytest.approx(want)
    assert max(row["x1"] for row in summary["boxes"]) > 128  # the 200 px wide picture's
    truth = make_scenes(1, 3, split="held_out")[0]  # the scene, in its own 128×128 pixels
    scale = np.array([SCENE_SIZE[1] / 128, SCENE_SIZE[0] / 128] * 2)
    found = np.array([[row[k] for k in ("x0", "y0", "x1", "y1")] for row in summary["boxes"]])
    overlap = box_iou(torch.from_numpy(found), torch.from_numpy(truth.boxes * scale))
    assert float(overlap[0].max()) > 0.7  # the best box sits on a digit of the scene
    code, text, _ = run(capsys, "predict", scene, "--model", "digits_detector")
    assert code == 0 and "x0" in text and summary["boxes"][0]["label"] in text


@pytest.mark.parametrize("name", ["toy_segmenter", "digits_segmenter"])
def test_save_mask_is_the_class_map_at_the_original_resolution(capsys, tmp_path, picture,
                                                               scene, name):
    from workbench.core.tasks.segmentation import segment
    from workbench.io.images import load_image

    model = builtin(name)
    image = scene if name.startswith("digits") else picture
    summary = run_json(capsys, "predict", image, "--model", name, "--save-mask",
                       tmp_path / "mask.npy")
    saved = np.load(tmp_path / "mask.npy")
    size = load_image(image).shape[:2]
    assert saved.shape == size and np.issubdtype(saved.dtype, np.integer)
    np.testing.assert_array_equal(saved, segment(model, load_image(image)).original_map)
    assert summary["size"] == list(size)
    assert sum(row["share"] for row in summary["shares"]) == pytest.approx(1.0)


def test_save_annotated_draws_over_the_picture(capsys, tmp_path, picture):
    for name in ("toy_detector", "toy_segmenter"):
        out = tmp_path / f"{name}.png"
        code, _, err = run(capsys, "predict", picture, "--model", name, "--save-annotated", out)
        assert code == 0, err
        assert Image.open(out).size == IMAGE_SIZE[::-1]


@pytest.mark.parametrize("name", ["toy_detector", "digits_detector"])
def test_cam_occlusion_attack_on_box_0_report_the_detection(capsys, picture, scene, name):
    builtin(name)
    image = scene if name.startswith("digits") else picture
    threshold = ["--threshold", 0.5]
    first = run_json(capsys, "predict", image, "--model", name, *threshold)["boxes"][0]
    commands = {
        "cam": ["--method", "gradcam"],
        "occlusion": ["--window", 16, "--stride", 16],
        "attack": ["--method", "pgd", "--eps", "16/255", "--steps", 5, "--target", "nothing"],
    }
    for command, options in commands.items():
        summary = run_json(capsys, command, image, "--model", name, "--box", 0, *threshold,
                           *options)
        target = summary["dense_target"]
        assert target["kind"] == "detection" and target["box_index"] == 0
        assert target["box"] == pytest.approx([first[k] for k in ("x0", "y0", "x1", "y1")])
        assert target["label"] == first["label"] and target["score"] == pytest.approx(
            first["score"], abs=1e-5)
    assert summary["target"]["label"].startswith("nothing") and summary["targeted"]
    assert summary["dense_target"]["score_before"] == pytest.approx(first["score"], abs=1e-5)
    assert summary["dense_target"]["score_after"] < summary["dense_target"]["score_before"]


@pytest.mark.parametrize("name", ["toy_segmenter", "digits_segmenter"])
def test_region_and_class_targets_on_a_segmenter(capsys, tmp_path, picture, scene, name):
    model = builtin(name)
    image = scene if name.startswith("digits") else picture
    mask = np.zeros((20, 30), np.uint8)  # any size: resized nearest to the model input
    mask[5:15, 10:20] = 1
    Image.fromarray(mask).save(tmp_path / "region.png")
    summary = run_json(capsys, "cam", image, "--model", name, "--method", "saliency",
                       "--region", tmp_path / "region.png", "--class", model.labels[1])
    target = summary["dense_target"]
    assert target["kind"] == "region" and target["class"] == 1 and summary["target"] == 1
    h, w = model.input_size
    assert target["pixels"] == pytest.approx(h * w / 6, rel=0.15)
    default = run_json(capsys, "occlusion", image, "--model", name, "--window", 32,
                       "--stride", 32)["dense_target"]
    assert default["region"] == "predicted" and "background" not in default["label"]
    by_class = run_json(capsys, "attack", image, "--model", name, "--method", "fgsm",
                        "--class", default["label"])["dense_target"]
    assert by_class["class"] == default["class"] and "score_after" in by_class


@pytest.mark.parametrize("args,fragment", [
    (["cam", "IMAGE", "--model", "toy_segmenter", "--method", "gradcam", "--box", 0],
     "--box is for a detector"),
    (["cam", "IMAGE", "--model", "digits_lenet", "--method", "gradcam", "--box", 0],
     "is a classifier"),
    (["occlusion", "IMAGE", "--model", "toy_detector", "--region", "MASK"],
     "--region is for a segmenter"),
    (["occlusion", "IMAGE", "--model", "toy_detector", "--threshold", 0, "--box", 7],
     "--box 7 is out of range"),
    (["cam", "IMAGE", "--model", "toy_detector", "--method", "gradcam", "--threshold", 0.99],
     "no detection scoring at least 0.99"),
    (["cam", "IMAGE", "--model", "toy_segmenter", "--method", "gradcam", "--region", "EMPTY"],
     "the region is empty"),
    (["cam", "IMAGE", "--model", "toy_segmenter", "--method", "gradcam", "--class", "ring"],
     "is empty"),
    (["cam", "IMAGE", "--model", "toy_detector", "--method", "gradcam", "--target", 1],
     "pick the target with --box"),
    (["attack", "IMAGE", "--model", "toy_segmenter", "--method", "fgsm", "--target",
      "nothing"], "only a detection can vanish"),
    (["predict", "IMAGE", "--model", "toy_detector", "--classes", "cat"], "no class called"),
    (["predict", "IMAGE", "--model", "toy_detector", "--save-mask", "OUT"],
     "--save-mask is for a segmenter"),
    (["predict", "IMAGE", "--model", "digits_lenet", "--threshold", 0.3], "is a classifier"),
    (["featviz", "--model", "toy_detector", "--channel", 0], "'workbench featviz' needs a "
                                                             "classifier"),
    (["occlude", "IMAGE", "--model", "toy_segmenter", "--mask", "MASK"], "needs a classifier"),
    (["embed", "FOLDER", "--model", "toy_segmenter"], "needs a classifier"),
    (["report", "IMAGE", "--model", "toy_detector", "--out", "REPORT"], "needs a classifier"),
])
def test_wrong_targets_and_commands_are_one_line_errors(capsys, tmp_path, picture, args,
                                                        fragment):
    region = np.zeros((8, 8), np.uint8)
    region[2:5, 2:5] = 255
    Image.fromarray(region).save(tmp_path / "mask.png")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "empty.png")
    (tmp_path / "images").mkdir()
    Image.open(picture).save(tmp_path / "images" / "a.png")
    names = {"IMAGE": picture, "MASK": tmp_path / "mask.png", "EMPTY": tmp_path / "empty.png",
             "OUT": tmp_path / "out.npy", "FOLDER": tmp_path / "images",
             "REPORT": tmp_path / "report.html"}
    assert fragment in one_line_error(capsys, *[names.get(a, a) for a in args])


def test_inspect_takes_a_dense_model(capsys):
    code, out, err = run(capsys, "inspect", "--model", "toy_segmenter")
    assert code == 0 and "features" in out, err


TORCHVISION = ["ssdlite320_mobilenet_v3_large:random",
               "fasterrcnn_mobilenet_v3_large_320_fpn:random", "lraspp_mobilenet_v3_large:random"]


@pytest.mark.parametrize("name", TORCHVISION)
def test_random_torchvision_dense_models_answer_or_say_why(capsys, picture, name):
    """Random weights: boxes (if any) at threshold 0, or one clear line; never a crash."""
    detector = "lraspp" not in name
    threshold = ["--threshold", 0] if detector else []
    predicted = run_json(capsys, "predict", picture, "--model", name, *threshold)
    assert predicted["task"] == ("detection" if detector else "segmentation")
    runs = [["cam", "--method", "gradcam"], ["occlusion", "--window", 160, "--stride", 160],
            ["attack", "--method", "fgsm"]]
    for command, *options in runs:
        code, out, err = run(capsys, command, picture, "--model", name, *threshold, *options,
                             "--json")
        if code:
            assert code == 1 and len(err.strip().splitlines()) == 1, err
            assert detector and not predicted["boxes"] and "no detection" in err
        else:
            assert json.loads(out)["dense_target"]["kind"] in ("detection", "region")
