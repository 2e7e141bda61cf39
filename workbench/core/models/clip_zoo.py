"""CLIP zero-shot classifiers: the prompts the user types *are* the labels.

Radford et al. 2021, "Learning Transferable Visual Models From Natural Language
Supervision", https://arxiv.org/abs/2103.00020 — logits are the scaled cosine similarities
of the image embedding and each prompt's text embedding.  Goh et al. 2021, "Multimodal
neurons in artificial neural networks", https://distill.pub/2021/multimodal-neurons/ —
why a written word moves such a model (``workbench.core.adversarial.typographic``).

Specs (``workbench.core.models.registry``): ``clip:ARCH`` (an open_clip architecture,
weights ``openai`` or the first tag it knows), ``clip:ARCH@TAG``, ``clip:hf-hub:ORG/REPO``,
``clip:local-dir:DIR`` or ``clip:DIR`` (a folder with ``open_clip_config.json`` and
optionally weights), each with ``:random`` for random weights.  Weights are read from the
Hugging Face cache and downloaded only when asked.  The image encoder is built once;
:func:`set_prompts` only recomputes the text embeddings.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from workbench.errors import InputError, ModelLoadError, WeightsNotCachedError

DEFAULT_TEMPLATE = "a photo of a {}"
DEFAULT_PROMPTS = ("apple", "iPod", "cat", "dog", "car", "cup of coffee", "person", "rocket")
TEXT_BATCH = 32
WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")


class ZeroShotHead(nn.Module):
    """The image encoder of a CLIP model and the normalized text embeddings of its prompts:
    ``logits = exp(logit_scale) · normalize(visual(x)) @ text_features.T (+ logit_bias)``.

    The text tower is kept outside the module tree (``self.clip``), so the layer list, hooks
    and device moves see only the image side; :func:`set_prompts` uses it.
    """

    def __init__(self, clip_model: nn.Module, tokenizer):
        super().__init__()
        self.visual = clip_model.visual
        self.register_buffer("logit_scale", clip_model.logit_scale.detach().clone().float())
        bias = getattr(clip_model, "logit_bias", None)
        self.register_buffer("logit_bias", None if bias is None else bias.detach().clone())
        self.register_buffer("text_features", torch.zeros(0, 1), persistent=False)
        self.__dict__["clip"] = clip_model  # not a submodule: the text tower stays out of view
        self.__dict__["tokenizer"] = tokenizer
        self.prompts: list[str] = []
        self.template = DEFAULT_TEMPLATE

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = F.normalize(self.visual(x), dim=-1)
        logits = self.logit_scale.exp() * features @ self.text_features.to(features.dtype).T
        return logits if self.logit_bias is None else logits + self.logit_bias

    @torch.no_grad()
    def encode_prompts(self, texts: list[str], ctx=None) -> torch.Tensor:
        """Normalized text embeddings ``(len(texts), D)`` on this module's device."""
        device = self.logit_scale.device
        clip = self.clip.to(device)
        out = []
        for start in range(0, len(texts), TEXT_BATCH):
            if ctx is not None:
                ctx.check()
                ctx.progress(start / len(texts), f"Encoding prompts {start}/{len(texts)}")
            tokens = self.tokenizer(texts[start:start + TEXT_BATCH]).to(device)
            out.append(clip.encode_text(tokens, normalize=True).float())
        return torch.cat(out)


# ------------------------------------------------------------------------- prompts
def split_prompts(text) -> list[str]:
    """One prompt per line, or comma-separated on one line; blanks dropped, order kept,
    repeats removed."""
    if isinstance(text, str):
        parts = text.splitlines() if "\n" in text.strip() else text.split(",")
    else:
        parts = list(text)
    seen, prompts = set(), []
    for part in (p.strip() for p in parts):
        if part and part not in seen:
            seen.add(part)
            prompts.append(part)
    return prompts


def fill_template(template: str | None, prompt: str) -> str:
    """``"a photo of a {}"`` + ``"cat"`` → ``"a photo of a cat"``; no template: the prompt."""
    if not template or not template.strip():
        return prompt
    return template.replace("{}", prompt)


def check_template(template: str | None) -> str:
    template = (template or "").strip()
    if template and template.count("{}") != 1:
        raise InputError(f"the template '{template}' must contain '{{}}' once, where each "
                         "prompt goes (e.g. 'a photo of a {}'), or be empty")
    return template


def head_of(loaded) -> ZeroShotHead | None:
    """The zero-shot head of a loaded CLIP model, else ``None``."""
    net = getattr(getattr(loaded, "module", None), "net", None)
    return net if isinstance(net, ZeroShotHead) else None


def is_clip(loaded) -> bool:
    return head_of(loaded) is not None


def set_prompts(loaded, prompts, template: str | None = DEFAULT_TEMPLATE, ctx=None) -> list[str]:
    """Make ``prompts`` the labels of a loaded CLIP model (the image encoder is untouched).

    ``loaded.labels`` is changed in place; ``loaded.extras`` gets ``"prompts"`` and
    ``"template"``.  Returns the prompts (split, stripped, de-duplicated).
    """
    head = head_of(loaded)
    if head is None:
        raise InputError(f"model {loaded.name} is not a CLIP model: prompts need a 'clip:' model")
    prompts = split_prompts(prompts)
    if not prompts:
        raise InputError("give at least one prompt (class names or sentences)")
    template = check_template(template)
    features = head.encode_prompts([fill_template(template, p) for p in prompts], ctx)
    head.text_features = features
    head.prompts, head.template = list(prompts), template
    loaded.labels[:] = prompts
    loaded.extras["prompts"] = list(prompts)
    loaded.extras["template"] = template
    loaded.extras.pop("weights_sha256", None)  # the text embeddings are part of the weights
    return prompts


# -------------------------------------------------------------------------- building
def parse_name(name: str) -> tuple[str, str | None]:
    """``ARCH@TAG`` → (ARCH, TAG); a folder becomes ``local-dir:FOLDER``."""
    if name.startswith(("hf-hub:", "local-dir:")):
        return name, None
    if Path(name).is_dir():
        return f"local-dir:{name}", None
    arch, _, tag = name.partition("@")
    return arch, tag or None


def _open_clip():
    try:
        import open_clip
    except ModuleNotFoundError as exc:
        raise ModelLoadError("'clip:' models need open_clip: pip install open_clip_torch") from exc
    return open_clip


def _cached_hf(repo: str, filenames) -> str | None:
    from huggingface_hub import try_to_load_from_cache

    for filename in filenames:
        path = try_to_load_from_cache(repo, filename)
        if isinstance(path, str):
            return path
    return None


def _pretrained_file(open_clip, arch: str, tag: str, download: bool):
    """``(file or None, tag config)`` of a tag's weights; raises when not cached."""
    from open_clip.pretrained import get_pretrained_cfg

    cfg = get_pretrained_cfg(arch, tag)
    if not cfg:
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(arch)) or "none"
        raise ModelLoadError(f"open_clip has no weights '{tag}' for {arch} (known: {tags})")
    hub = cfg.get("hf_hub", "")
    repo, filename = (hub.rstrip("/").rpartition("/")[0], hub.rpartition("/")[2]) if hub \
        else ("", "")
    if hub and not filename:
        repo = hub.rstrip("/")
    names = [filename] if filename else list(WEIGHT_FILES)
    if filename.endswith(".bin"):
        names.insert(0, filename.replace(".bin", ".safetensors"))
    path = _cached_hf(repo, names) if repo else None
    if path is None and cfg.get("url"):
        candidate = Path.home() / ".cache" / "clip" / Path(cfg["url"]).name
        path = str(candidate) if candidate.is_file() else None
    if path is None and not download:
        where = f"Hugging Face repo {repo}" if repo else cfg.get("url", "?")
        raise WeightsNotCachedError(
            f"Pretrained CLIP weights {arch}@{tag} are not cached (they come from {where}). "
            f"Ask to download them (GUI: Download; CLI: --download), or use "
            f"'clip:{arch}:random' for random weights")
    return path, cfg


def _hub_dir(repo: str, download: bool) -> str:
    """The cached snapshot folder of an open_clip Hugging Face repo (config + weights)."""
    config = _cached_hf(repo, ["open_clip_config.json"])
    if config is None and download:
        from huggingface_hub import snapshot_download

        return snapshot_download(repo, allow_patterns=["open_clip_config.json", *WEIGHT_FILES])
    if config is None:
        raise WeightsNotCachedError(
            f"CLIP model hf-hub:{repo} is not cached. Ask to download it (GUI: Download; "
            "CLI: --download)")
    return str(Path(config).parent)


def create(name: str, pretrained: bool, download: bool):
    """``(open_clip model, tokenizer, source text)``; no network unless ``download``."""
    open_clip = _open_clip()
    model_name, tag = parse_name(name)
    kwargs: dict = {}
    source = f"open_clip {name}"
    if model_name.startswith("hf-hub:"):  # read from the cached snapshot: no network
        model_name = "local-dir:" + _hub_dir(model_name.removeprefix("hf-hub:"), download)
    if model_name.startswith("local-dir:"):
        kwargs["load_weights"] = pretrained
        source += "" if pretrained else ", random weights"
    elif model_name not in open_clip.list_models():
        raise ModelLoadError(f"open_clip knows no architecture '{model_name}' (e.g. ViT-B-32, "
                             "RN50, ViT-B-16; see open_clip.list_models())")
    elif pretrained:
        tags = open_clip.list_pretrained_tags_by_model(model_name)
        tag = tag or ("openai" if "openai" in tags else (tags[0] if tags else None))
        if tag is None:
            raise ModelLoadError(f"open_clip has no pretrained weights for {model_name}; "
                                 f"use 'clip:{model_name}:random'")
        path, cfg = _pretrained_file(open_clip, model_name, tag, download)
        if path is None:  # allowed to download: open_clip fetches and caches it
            kwargs["pretrained"] = tag
        else:
            kwargs.update(pretrained=path, force_quick_gelu=bool(cfg.get("quick_gelu")),
                          force_preprocess_cfg={k: cfg[k] for k in ("mean", "std") if k in cfg})
        source = f"open_clip {model_name}, weights {tag} (Radford et al. 2021)"
    else:
        source = f"open_clip {model_name}, random weights"
    try:
        with _quiet():  # open_clip logs a warning for random weights on the root logger
            model = open_clip.create_model(model_name, **kwargs)
            tokenizer = open_clip.get_tokenizer(model_name)
    except (RuntimeError, ValueError, FileNotFoundError, OSError) as exc:
        raise ModelLoadError(f"cannot build CLIP model {name}: {str(exc).splitlines()[0]}") \
            from exc
    return model.eval().requires_grad_(False), tokenizer, source


@contextlib.contextmanager
def _quiet():
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))
    try:
        yield
    finally:
        root.setLevel(level)


def preprocessing(model) -> dict:
    """Image size, mean and std from the model's own preprocess config."""
    from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

    cfg = getattr(model.visual, "preprocess_cfg", None) or {}
    size = cfg.get("size") or getattr(model.visual, "image_size", 224)
    size = (size, size) if isinstance(size, int) else tuple(size)
    return {"mean": tuple(cfg.get("mean", OPENAI_DATASET_MEAN)),
            "std": tuple(cfg.get("std", OPENAI_DATASET_STD)), "input_size": size}


def build(name: str, pretrained: bool, download: bool, ctx=None, seed: int = 0):
    """The registry's entry point: ``(net, prep, labels, source, kind)``, labelled with
    :data:`DEFAULT_PROMPTS` until :func:`set_prompts` is called."""
    model, tokenizer, source = create(name, pretrained, download)
    if ctx is not None:
        ctx.check()
    head = ZeroShotHead(model, tokenizer)
    prompts = list(DEFAULT_PROMPTS)
    head.text_features = head.encode_prompts(
        [fill_template(DEFAULT_TEMPLATE, p) for p in prompts], ctx)
    head.prompts = prompts
    prep = preprocessing(model)
    prep["extras"] = {"prompts": list(prompts), "template": DEFAULT_TEMPLATE}
    return head, prep, prompts, f"{source}; zero-shot over typed prompts", "image"
