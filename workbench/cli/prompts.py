"""``--prompts`` and ``--template`` of every command: the labels of a ``clip:`` model
(CLIP zero-shot, Radford et al. 2021, https://arxiv.org/abs/2103.00020)."""

from __future__ import annotations

from pathlib import Path

from workbench.errors import WorkbenchError

CLIP_PREFIX = "clip:"


def add_prompt_options(group) -> None:
    group.add_argument("--prompts", metavar="TEXT|FILE",
                       help="labels of a clip: model: 'a cat,a dog,a car', or a file with one "
                            "prompt per line")
    group.add_argument("--template", default=None,
                       help="sentence each prompt fills, with {} (default 'a photo of a {}'; "
                            "'' uses the prompts as typed)")


def read_prompts(text: str) -> str:
    """The prompts text of ``--prompts``: a file's contents when it names a file."""
    path = Path(text)
    try:
        is_file = path.is_file()
    except OSError:  # a long prompt list is not a path
        is_file = False
    if is_file:
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise WorkbenchError(f"--prompts {text}: cannot read it ({exc})") from None
    return text


def check_prompt_args(args) -> None:
    """Before loading: a clip: model needs prompts; prompts need a clip: model."""
    spec = str(getattr(args, "model", "") or "")
    prompts = getattr(args, "prompts", None)
    if spec.startswith(CLIP_PREFIX) and not prompts:
        raise WorkbenchError(f"{spec} is a CLIP model: give its labels with --prompts "
                             "'a cat,a dog' (or --prompts FILE, one per line)")
    if prompts and not spec.startswith(CLIP_PREFIX):
        raise WorkbenchError("--prompts needs a CLIP model (--model clip:ARCH, e.g. "
                             "clip:ViT-B-32)")
    if getattr(args, "template", None) is not None and not prompts:
        raise WorkbenchError("--template needs --prompts and a clip: model")


def apply_prompts(model, args):
    """Give a loaded CLIP model the command's prompts; returns the model."""
    from workbench.core.models.clip_zoo import DEFAULT_TEMPLATE, is_clip, set_prompts

    prompts = getattr(args, "prompts", None)
    if prompts and is_clip(model):
        template = args.template if args.template is not None else DEFAULT_TEMPLATE
        set_prompts(model, read_prompts(prompts), template)
    return model
