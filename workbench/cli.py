"""The ``workbench`` command: the GUI, and headless subcommands over core + io.

Never imports Qt except for ``gui`` and ``screenshot`` (DESIGN.md §6).  User
errors print one line to stderr and exit with status 1 (2 for bad usage).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from workbench import __version__
from workbench.errors import WorkbenchError

SUBCOMMANDS = ("gui", "models", "predict", "screenshot")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is a single line."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--model", default="efficientnet_lite0",
                       help="built-in or torchvision name (NAME:random for random weights), "
                            "or a checkpoint file (default: efficientnet_lite0)")
    group.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps")
    group.add_argument("--download", action="store_true",
                       help="allow downloading torchvision weights that are not cached")
    group.add_argument("--trust", action="store_true",
                       help="allow unpickling a whole-model checkpoint (runs code from the file)")
    group.add_argument("--arch", help="torchvision architecture of a state-dict checkpoint")
    group.add_argument("--num-classes", type=int, help="classes of a state-dict checkpoint")
    group.add_argument("--labels", help="labels file for a checkpoint, one per line")
    group.add_argument("--input-size", type=int, default=224,
                       help="input size of a checkpoint model (default 224)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="workbench", description="Interpretability workbench for "
                           "PyTorch vision models. Without a subcommand, opens the GUI.")
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    gui = sub.add_parser("gui", help="open the main window")
    gui.add_argument("files", nargs="*", help="images or folders to open")
    gui.add_argument("--model", help="model to load (default: the last one, or efficientnet_lite0)")
    gui.add_argument("--tab", help="tab to show first")
    models = sub.add_parser("models", help="list models and whether each works offline now")
    models.add_argument("--json", action="store_true", help="machine-readable output")
    predict = sub.add_parser("predict", help="top-k classes for an image")
    predict.add_argument("image")
    predict.add_argument("--topk", type=int, default=5)
    predict.add_argument("--json", action="store_true",
                         help='print [{"index", "label", "prob"}, ...], best first')
    predict.add_argument("--save-input", metavar="FILE.npy",
                         help="save the exact (1, 3, H, W) pixel tensor the model saw")
    add_model_options(predict)
    shot = sub.add_parser("screenshot", help="save the main window as PNG, offscreen")
    shot.add_argument("out", help="PNG file to write")
    shot.add_argument("files", nargs="*", help="images or folders to open")
    shot.add_argument("--tab", help="tab to show")
    shot.add_argument("--size", default="1400x860", help="window size WxH (default 1400x860)")
    shot.add_argument("--model", help="model to load (default efficientnet_lite0)")
    shot.add_argument("--dark", action="store_true", help="dark theme")
    return parser


def checkpoint_options(args):
    from workbench.core.models.checkpoint import CheckpointOptions

    return CheckpointOptions(arch=args.arch, num_classes=args.num_classes,
                             labels_file=args.labels, trust=args.trust,
                             input_size=args.input_size)


def load_cli_model(args):
    from workbench.core.models import load_model

    return load_model(args.model, device=args.device, download=args.download,
                      checkpoint=checkpoint_options(args))


def cmd_models(args) -> int:
    from workbench.core.models import available_models

    rows = available_models()
    if args.json:
        print(json.dumps([row.__dict__ for row in rows], indent=2))
        return 0
    width = max(len(r.name) for r in rows)
    for row in rows:
        offline = "offline" if row.offline else "needs download (NAME:random works offline)"
        print(f"{row.name:<{width}}  {row.kind:<5}  {offline}")
    return 0


def cmd_predict(args) -> int:
    from workbench.core.predict import predict_image
    from workbench.io.atomic import save_npy_atomic
    from workbench.io.images import load_image

    if args.topk < 1:
        raise WorkbenchError("--topk must be at least 1")
    image = load_image(args.image)
    model = load_cli_model(args)
    prediction, pixels = predict_image(model, image, args.topk)
    if args.save_input:
        save_npy_atomic(args.save_input, pixels.detach().cpu().numpy().astype("float32"))
    if args.json:
        print(json.dumps([score.as_dict() for score in prediction.top], indent=2))
    else:
        for score in prediction.top:
            print(f"{score.prob:7.2%}  {score.index:>5}  {score.label}")
    return 0


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise WorkbenchError(f"--size must look like 1400x860, not '{text}'") from None
    if not (200 <= width <= 8000 and 200 <= height <= 8000):
        raise WorkbenchError(f"--size {text} is outside 200x200 … 8000x8000")
    return width, height


def cmd_screenshot(args) -> int:
    from workbench.ui.screenshot import take_screenshot

    errors = take_screenshot(args.out, args.files, tab=args.tab, size=parse_size(args.size),
                             model=args.model, dark=args.dark)
    for text in errors:
        print(f"workbench: warning: {text}", file=sys.stderr)
    print(args.out)
    return 0


def cmd_gui(args) -> int:
    from workbench.ui.app import run_gui

    return run_gui(files=args.files, model=args.model, tab=args.tab)


COMMANDS = {"gui": cmd_gui, "models": cmd_models, "predict": cmd_predict,
            "screenshot": cmd_screenshot}


def normalize_argv(argv: list[str]) -> list[str]:
    """``workbench`` and ``workbench FILE …`` mean ``workbench gui …``."""
    if not argv:
        return ["gui"]
    first = argv[0]
    if first in SUBCOMMANDS or first.startswith("-"):
        return argv
    return ["gui", *argv]


def main(argv: list[str] | None = None) -> int:
    argv = normalize_argv(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one line unless debugging
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        print(f"workbench: internal error: {type(exc).__name__}: {exc} "
              "(set WORKBENCH_DEBUG=1 for details)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
