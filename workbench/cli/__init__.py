"""The ``workbench`` command: the GUI, and headless subcommands over core + io.

One module per command family, each with ``add_parsers(sub, add_model_options)`` and
``COMMANDS``.  Never imports Qt except for ``gui`` and ``screenshot`` (DESIGN.md §6).
User errors print one line to stderr and exit with status 1 (2 for bad usage).
"""

from __future__ import annotations

import importlib
import os
import sys

from workbench import __version__
from workbench.cli.common import (
    OneLineParser,
    add_model_options,
    check_outputs,
    load_cli_model,
    parse_params,
)
from workbench.errors import WorkbenchError

__all__ = ["OneLineParser", "add_model_options", "build_parser", "load_cli_model", "main",
           "normalize_argv", "parse_params"]

FAMILIES = ("gui", "models", "attribution", "occlusion", "featviz", "adversarial", "embedding",
            "video", "video_occlusion", "inspect", "report", "batch")


GUI_OPTIONS = ("--session", "--model", "--tab")  # `workbench --session F` means `workbench gui …`


def family_modules():
    return [importlib.import_module(f"workbench.cli.{name}") for name in FAMILIES]


def commands() -> dict:
    """Every subcommand's name → its function, from the family modules."""
    table = {}
    for module in family_modules():
        table.update(module.COMMANDS)
    return table


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="workbench", description="Interpretability workbench for "
                           "PyTorch vision models. Without a subcommand, opens the GUI.")
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    for module in family_modules():
        module.add_parsers(sub, add_model_options)
    for command in sub.choices.values():
        command.add_argument("--overwrite", action="store_true",
                             help="replace output files that already exist")
    return parser


def normalize_argv(argv: list[str]) -> list[str]:
    """``workbench`` and ``workbench FILE …`` mean ``workbench gui …``."""
    if not argv:
        return ["gui"]
    first = argv[0]
    if first in GUI_OPTIONS or first.split("=")[0] in GUI_OPTIONS:
        return ["gui", *argv]
    if first in commands() or first.startswith("-"):
        return argv
    return ["gui", *argv]


def main(argv: list[str] | None = None) -> int:
    argv = normalize_argv(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    try:
        check_outputs(args)
        return commands()[args.command](args)
    except BrokenPipeError:  # `workbench models --json | head`: the reader has had enough
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's final flush must not fail again
        return 0
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
