"""A tiny open_clip model folder for tests: the real tokenizer (its BPE vocabulary ships in
the package) and the real CLIP code, at a size that runs in milliseconds on a CPU."""

from __future__ import annotations

import json
from pathlib import Path

TINY_CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "patch_size": 16, "width": 64, "layers": 2,
                   "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2,
                 "layers": 2},
}


def tiny_clip_dir(folder) -> Path:
    """Write ``open_clip_config.json`` of :data:`TINY_CONFIG` into ``folder``; use it as
    ``clip:FOLDER:random``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": TINY_CONFIG}))
    return folder
