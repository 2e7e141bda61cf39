"""``workbench gui`` and ``workbench screenshot``: the only commands that import Qt."""

from __future__ import annotations

import sys

from workbench.cli import common


def add_parsers(sub, add_model_options) -> None:
    gui = sub.add_parser("gui", help="open the main window")
    gui.add_argument("files", nargs="*", help="images or folders to open")
    gui.add_argument("--model", help="model to load (default: the last one, or efficientnet_lite0)")
    gui.add_argument("--tab", help="tab to show first")
    gui.add_argument("--session", help="a .wbsession file to open (File → Save session)")
    shot = sub.add_parser("screenshot", help="save the main window as PNG, offscreen")
    shot.add_argument("out", help="PNG file to write")
    shot.add_argument("files", nargs="*", help="images or folders to open")
    shot.add_argument("--tab", help="tab to show")
    shot.add_argument("--size", default="1400x860", help="window size WxH (default 1400x860)")
    shot.add_argument("--model", help="model to load (default efficientnet_lite0)")
    shot.add_argument("--dark", action="store_true", help="dark theme")
    shot.add_argument("--presentation", action="store_true", help="presentation mode")
    shot.add_argument("--run", action="store_true",
                      help="run the tab's main action first (a sweep, a map, an attack, …)")
    shot.add_argument("--lesson", help="open this lesson of the Lessons menu first (video, "
                      "motion, occlusion, sweep, two-classes, neighbours, tsne, autoencoder, "
                      "featviz, fgsm, patch, conv-quiz)")


def cmd_screenshot(args) -> int:
    from workbench.ui.screenshot import take_screenshot

    errors = take_screenshot(args.out, args.files, tab=args.tab, size=common.parse_size(args.size),
                             model=args.model, dark=args.dark, run=args.run,
                             presentation=args.presentation, lesson=args.lesson)
    for text in errors:
        print(f"workbench: warning: {text}", file=sys.stderr)
    print(args.out)
    return 0


def cmd_gui(args) -> int:
    from workbench.ui.app import run_gui

    return run_gui(files=args.files, model=args.model, tab=args.tab, session=args.session)


COMMANDS = {"gui": cmd_gui, "screenshot": cmd_screenshot}
