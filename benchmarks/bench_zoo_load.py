"""Loading a zoo model by name (issue 17): ``load_model("timm:NAME:random")`` against timm's own
``timm.create_model(NAME)`` of the same network, and a ``save_pretrained`` folder against
transformers' ``from_pretrained`` — target: Workbench adds < 0.2 s (its data
config, labels, CAM layer from the feature info, and the wrapper's dry passes that describe
every layer; a second row times the zoo's own part alone).  Random weights: the file read
is the same either way.  Interleaved rounds, medians (DESIGN.md §9)."""

from __future__ import annotations

from benchmarks.common import Row, paired

TIMM_MODELS = ("resnet50", "convnext_tiny", "vit_small_patch16_224")
TARGET_S = 0.2


def timm_row(name: str, device: str, rounds: int) -> list[Row]:
    """The whole load (wrapper's dry passes included) and the zoo's own part, each against
    ``timm.create_model``."""
    import timm

    from workbench.core.models import load_model, timm_zoo

    def ours():
        load_model(f"timm:{name}:random", device=device)

    def limit():
        timm.create_model(name, pretrained=False).eval().to(device)

    def zoo_only():
        timm_zoo.build(name, False, False)

    rows = []
    for label, fn, what in ((f"load timm:{name}:random", ours, "load_model"),
                            (f"  of which timm_zoo.build {name}", zoo_only, "zoo only")):
        ours_ms, limit_ms, ratio = paired(fn, limit, rounds, warmup=1)
        added = ours_ms - limit_ms
        verdict = "met" if added < TARGET_S * 1000 else "MISSED"
        rows.append(Row(label, ours_ms, limit_ms,
                        f"{what} adds {added:.0f} ms, target < {TARGET_S * 1000:.0f} ms "
                        f"({verdict}); limit = timm.create_model", paired_ratio=ratio))
    return rows


def hf_folder() -> str:
    """A ViT-Small-sized image classifier saved with ``save_pretrained`` (random weights, built
    from a config here: nothing is downloaded)."""
    import tempfile

    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    folder = tempfile.mkdtemp(prefix="wb-hf-bench-")
    config = ViTConfig(hidden_size=384, num_hidden_layers=12, num_attention_heads=6,
                       intermediate_size=1536, image_size=224, patch_size=16, num_labels=1000)
    ViTForImageClassification(config).save_pretrained(folder)
    ViTImageProcessor(size={"height": 224, "width": 224}).save_pretrained(folder)
    return folder


def hf_row(device: str, rounds: int) -> list[Row]:
    """``load_model(FOLDER)`` against transformers' own ``from_pretrained`` of the folder."""
    from transformers import AutoModelForImageClassification

    from workbench.core.models import load_model

    folder = hf_folder()

    def ours():
        load_model(folder, device=device)

    def limit():
        AutoModelForImageClassification.from_pretrained(folder).eval().to(device)

    ours_ms, limit_ms, ratio = paired(ours, limit, rounds, warmup=1)
    added = ours_ms - limit_ms
    verdict = "met" if added < TARGET_S * 1000 else "MISSED"
    return [Row("load a save_pretrained ViT-S folder (hf)", ours_ms, limit_ms,
                f"load_model adds {added:.0f} ms, target < {TARGET_S * 1000:.0f} ms "
                f"({verdict}); limit = from_pretrained", paired_ratio=ratio)]


def run(device: str = "cpu", rounds: int = 5):
    import importlib.util

    rows = []
    if importlib.util.find_spec("timm") is not None:
        rows += [row for name in TIMM_MODELS for row in timm_row(name, device, rounds)]
    if importlib.util.find_spec("transformers") is not None:
        rows += hf_row(device, rounds)
    return rows


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
