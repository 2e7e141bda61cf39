"""Loading a zoo model by name (issue 17): ``load_model("timm:NAME:random")`` against timm's own
``timm.create_model(NAME)`` of the same network — target: Workbench adds < 0.2 s (its data
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


def run(device: str = "cpu", rounds: int = 5):
    import importlib.util

    if importlib.util.find_spec("timm") is None:
        return []
    return [row for name in TIMM_MODELS for row in timm_row(name, device, rounds)]


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
