"""What every command shares: model options, parameters, outputs, progress, errors."""

from __future__ import annotations

import argparse
import os
import sys

from workbench.errors import WorkbenchError

OUTPUT_OPTIONS = ("out", "save_map", "save_input", "save_grid", "save_adv", "save", "save_probs",
                  "save_maps", "save_mask", "save_annotated")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is a single line."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--model", default="efficientnet_lite0",
                       help="built-in, torchvision, timm:NAME, hf:ORG/NAME or clip:ARCH name "
                            "(NAME:random for random weights), a Hugging Face folder, or a "
                            "checkpoint file (default: efficientnet_lite0)")
    group.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps")
    if "--cluster" not in parser._option_string_actions:  # embed / batch have their own
        group.add_argument("--cluster", metavar="ADDRESS",
                           help="run the core job on a Dask cluster: tcp://host:8786, "
                                "tls://host:8786 or local:N (--device is then the worker's)")
        parser.set_defaults(interactive_cluster=True)
    group.add_argument("--download", action="store_true",
                       help="allow downloading weights that are not cached (torchvision, HF)")
    group.add_argument("--compile", action="store_true",
                       help="forward-only work (predict, occlusion, Score-CAM, deletion / "
                            "insertion, per-frame video, embeddings, attack evaluation) on "
                            "the model compiled ahead of time, checked against eager first "
                            "(built once in tens of seconds and kept in the cache; later "
                            "runs load it in under a second)")
    group.add_argument("--trust", action="store_true",
                       help="allow unpickling a whole-model checkpoint (runs code from the file)")
    group.add_argument("--arch", help="architecture of a state dict: torchvision name or timm:NAME")
    group.add_argument("--num-classes", type=int, help="classes of a state-dict checkpoint")
    group.add_argument("--labels", help="labels file for a checkpoint, one per line")
    group.add_argument("--input-size", type=input_size, metavar="SIZE|H,W",
                       help="input size, one number for a square or H,W (default: the "
                            "model's own; 224 for a checkpoint)")
    group.add_argument("--mean", type=_floats, metavar="R,G,B",
                       help="normalization mean in pixel units (default: the model's own)")
    group.add_argument("--std", type=_floats, metavar="R,G,B",
                       help="normalization std in pixel units (default: the model's own)")
    group.add_argument("--code", metavar="DIR",
                       help="folder or module defining a pickled model's class (with --trust)")
    group.add_argument("--multi-label", action="store_true",
                       help="independent labels: sigmoid probabilities, not softmax")
    group.add_argument("--output", metavar="NAME",
                       help="which output of a tuple / dict forward is the score "
                            "(index, key or attribute; default: logits, else the first)")
    from workbench.cli.prompts import add_prompt_options

    add_prompt_options(group)  # --prompts, --template of a clip: model


def _floats(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected three numbers R,G,B, not '{text}'") from None
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"expected three numbers R,G,B, not '{text}'")
    return values


def parse_params(method, pairs: list[str]) -> dict:
    """``["samples=50", ...]`` → typed overrides for ``method``'s parameter dataclass."""
    from workbench.core.params import describe

    infos = {info.name: info for info in describe(method.params_cls)}
    return typed_pairs(pairs, infos, f"{method.name} parameters are")


def typed_pairs(pairs: list[str], infos: dict, known_as: str) -> dict:
    """``NAME=VALUE`` pairs typed by ``infos`` (name → ``ParamInfo``); a name not there or
    a value of the wrong type is one line naming what is allowed (``known_as``: …)."""
    values = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in infos:
            known = ", ".join(infos) or "none"
            raise WorkbenchError(f"--param {pair}: {known_as}: {known}")
        kind = infos[name].kind
        try:
            values[name] = (text.lower() in ("1", "true", "yes")) if kind is bool else kind(text)
        except ValueError:
            raise WorkbenchError(f"--param {pair}: {name} must be a {kind.__name__}") from None
    return values


def input_size(text: str) -> tuple[int, int]:
    """``"160,128"`` (or ``160x128``, or one number for a square) → ``(160, 128)``."""
    parts = text.lower().replace("x", ",").split(",")
    try:
        values = [int(v) for v in parts]
    except ValueError:
        values = []
    if len(values) == 1:
        values *= 2
    if len(values) != 2 or min(values) < 1:
        raise argparse.ArgumentTypeError(f"must look like 224 or 224,160, not '{text}'")
    return values[0], values[1]


def checkpoint_options(args):
    from workbench.core.models.checkpoint import CheckpointOptions

    return CheckpointOptions(arch=args.arch, num_classes=args.num_classes,
                             labels_file=args.labels, trust=args.trust,
                             input_size=args.input_size, mean=args.mean, std=args.std,
                             code=args.code, multi_label=args.multi_label, output=args.output)


def load_cli_model(args):
    from workbench.cli.dense import check_task
    from workbench.cli.prompts import apply_prompts, check_prompt_args
    from workbench.core.models import load_model

    check_prompt_args(args)
    remote = getattr(args, "cluster", None) and getattr(args, "interactive_cluster", False)
    device = "cpu" if remote else args.device  # with --cluster, --device is the worker's
    model = apply_prompts(load_model(args.model, device=device, download=args.download,
                                     checkpoint=checkpoint_options(args)), args)
    check_task(model, getattr(args, "command", None))  # a dense model: only where it works
    if getattr(args, "compile", False):
        from workbench.core import fastpath

        with progress_context() as ctx:
            state = fastpath.prepare(model, ctx)
        if state != "ready":
            print(f"workbench: {model.name} runs eagerly: {state}", file=sys.stderr)
    return model


def run_core(args, fn, *fn_args, ctx=None, **fn_kwargs):
    """The command's core call ``fn(*fn_args, **fn_kwargs, ctx=ctx)``: here, or with
    ``--cluster`` on the cluster's model holder (the same function; tensors come back on
    the CPU)."""
    if not getattr(args, "cluster", None):
        return fn(*fn_args, **fn_kwargs) if ctx is None else fn(*fn_args, **fn_kwargs, ctx=ctx)
    from workbench.core.remote.interactive import executor_for, run_call

    executor = executor_for(args.cluster, args.device, checkpoint_options(args), args.download)
    return run_call(executor, fn, fn_args, fn_kwargs, ctx)


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise WorkbenchError(f"--size must look like 1400x860, not '{text}'") from None
    if not (200 <= width <= 8000 and 200 <= height <= 8000):
        raise WorkbenchError(f"--size {text} is outside 200x200 … 8000x8000")
    return width, height


def check_outputs(args) -> None:
    """Refuse to replace an existing output file unless ``--overwrite`` was given."""
    for name in OUTPUT_OPTIONS:
        path = getattr(args, name, None)
        if isinstance(path, str) and path and os.path.exists(path) and not args.overwrite:
            raise WorkbenchError(f"'{path}' already exists; pass --overwrite to replace it")


class TerminalProgress:
    """Progress of a slow command on stderr, only when stderr is a terminal: one line
    rewritten in place (``label  42 %  message``), cleared when the command ends."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = ""

    def __call__(self, fraction: float, message: str = "") -> None:
        if not self.enabled:
            return
        line = f"{fraction:4.0%}  {message}"[:78]
        if line != self._last:
            self.stream.write("\r" + line.ljust(len(self._last)))
            self.stream.flush()
            self._last = line

    def close(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\r" + " " * len(self._last) + "\r")
            self.stream.flush()
            self._last = ""


def progress_context():
    """A :class:`~workbench.core.jobs.PlainContext` that reports on the terminal; call
    ``ctx.close()`` when done (``with`` works too)."""
    from workbench.core.jobs import PlainContext

    class _Context(PlainContext):
        def __enter__(self):
            return self

        def __exit__(self, *_exc):
            self.close()
            return False

        def close(self):
            printer.close()

    printer = TerminalProgress()
    return _Context(on_progress=printer)


def save_map_figure(path, picture, heat, title: str, units: str, record: dict,
                    colormap: str = "inferno") -> dict:
    """Write ``heat`` over ``picture`` as a figure (title, colour bar, provenance caption in
    the picture and the file) and return what the JSON summary reports about the map."""
    from workbench.core.provenance import caption
    from workbench.io.figure import FigurePanel, metadata_of, render_figure, save_figure
    from workbench.io.overlay import color_scale, overlay

    scale = color_scale(heat, colormap, units)
    panel = FigurePanel(overlay(picture, heat, colormap, units=units), "", scale,
                        note=scale.warning())
    text = caption(record)
    save_figure(path, render_figure([panel], title, text), metadata_of(title, text, record))
    return map_summary(heat, units)


def map_summary(heat, units: str) -> dict:
    """The map's range and, when it has nothing to show, a plain warning."""
    from workbench.io.overlay import color_scale

    raw = color_scale(heat, units=units)
    summary = {"map_range": [raw.low, raw.high], "map_units": units}
    if raw.warning():
        summary["warning"] = raw.warning()
    return summary


def warn(summary: dict) -> None:
    """Print a summary's warning on stderr (the JSON keeps it too)."""
    if summary.get("warning"):
        print(f"workbench: warning: {summary['warning']}", file=sys.stderr)
