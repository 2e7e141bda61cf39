"""``workbench inspect`` (a model's layer table: shapes, parameters, MACs, receptive fields)
and ``workbench conv`` (one convolution's arithmetic with the formulas filled in).

Receptive fields after Araujo et al., Distill 2019,
https://distill.pub/2019/computing-receptive-fields/; convolution arithmetic after
Dumoulin & Visin 2016, https://arxiv.org/abs/1603.07285 (see :mod:`workbench.core.inspect`).
"""

from __future__ import annotations

import json
from dataclasses import asdict


def add_parsers(sub, add_model_options) -> None:
    parser = sub.add_parser("inspect", conflict_handler="resolve",
                            help="the layer table: shapes, parameters, MACs, receptive fields")
    parser.add_argument("--json", action="store_true", help="one object per layer, and totals")
    add_model_options(parser)
    conv = sub.add_parser("conv", help="one convolution's output size, parameters, MACs, "
                                       "receptive field and unrolled matrix")
    conv.add_argument("h", type=int, metavar="H")
    conv.add_argument("w", type=int, metavar="W")
    conv.add_argument("c", type=int, metavar="C", help="input channels")
    conv.add_argument("--kernel", type=int, required=True, metavar="F")
    conv.add_argument("--out", dest="out_channels", type=int, required=True, metavar="C_OUT",
                      help="output channels (filters)")
    conv.add_argument("--stride", type=int, default=1)
    conv.add_argument("--padding", type=int, default=0)
    conv.add_argument("--dilation", type=int, default=1)
    conv.add_argument("--json", action="store_true")


def cmd_inspect(args) -> int:
    from workbench.cli import common
    from workbench.core.inspect import inspect_model

    size = args.input_size
    model = common.load_cli_model(args)
    with common.progress_context() as ctx:
        table = inspect_model(model, size, ctx)
    if args.json:
        print(json.dumps(table_summary(model, table), indent=2, ensure_ascii=False))
    else:
        print(table_text(model, table))
    return 0


def table_summary(model, table) -> dict:
    """What ``--json`` prints: every column of every layer, and the totals."""
    return {"model": model.name, "input_shape": list(table.input_shape),
            "seconds": table.seconds, "layers": [asdict(row) for row in table.rows],
            "totals": table.totals}


def compact(n: int) -> str:
    """``118013952`` → ``118.0M``."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f}{unit}"
    return str(n)


def field_text(rf) -> str:
    if rf is None:
        return "–"
    same = len(set(rf.size)) == 1 and len(set(rf.jump)) == 1
    size = str(rf.size[0]) if same else "×".join(map(str, rf.size))
    jump = str(rf.jump[0]) if same else "×".join(map(str, rf.jump))
    return f"{size} / {jump}"


def table_text(model, table) -> str:
    """A readable table: name (indented by depth), type, output shape, params, MACs, RF."""
    from workbench.core.inspect.table import describe_totals

    cells = [("  " * (row.depth - 1) + row.name, row.type_name,
              "×".join(map(str, row.output_shape[1:])) if row.output_shape else "–",
              compact(row.params_trainable), compact(row.macs), field_text(row.rf))
             for row in table.rows]
    header = ("layer", "type", "output", "params", "MACs", "RF r / j")
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(len(header))]

    def line(c):
        return (f"{c[0]:<{widths[0]}}  {c[1]:<{widths[1]}}  {c[2]:>{widths[2]}}  "
                f"{c[3]:>{widths[3]}}  {c[4]:>{widths[4]}}  {c[5]}").rstrip()

    shape = "×".join(map(str, table.input_shape[1:]))
    lines = [f"{model.name}: input {shape}", line(header)]
    lines += [line(c) for c in cells]
    lines.append(f"total: {describe_totals(table.totals)} ({table.seconds:.2f} s)")
    return "\n".join(lines)


def cmd_conv(args) -> int:
    from workbench.core.inspect import conv_answer

    answer = conv_answer(args.h, args.w, args.c, args.kernel, args.out_channels, args.stride,
                         args.padding, args.dilation)
    if args.json:
        print(json.dumps(asdict(answer), indent=2, ensure_ascii=False))
    else:
        print(conv_text(args, answer))
    return 0


def conv_text(args, answer) -> str:
    """The answer, one quantity a line with its formula."""
    h, w, c = answer.input
    k = args.kernel
    filters = f"{args.out_channels} filter" + "s" * (args.out_channels != 1)
    lines = [f"{h}×{w}×{c} input, {k}×{k} kernel, {filters}, stride {args.stride}, "
             f"padding {args.padding}, dilation {args.dilation}"]
    rows = (("output", "×".join(map(str, answer.output)), "output"),
            ("parameters", f"{answer.params:,}", "params"),
            ("MACs", f"{answer.macs:,}", "macs"),
            ("receptive field", f"{answer.receptive_field}, jump {answer.jump}",
             "receptive_field"),
            ("matrix", "×".join(map(str, answer.matrix_shape)), "matrix"),
            ("non-zeros", f"{answer.nonzeros:,}", "nonzeros"))
    for label, value, key in rows:
        lines.append(f"{label:<16} {value.replace(',', ' '):<14} {answer.formulas[key]}")
    return "\n".join(lines)


COMMANDS = {"inspect": cmd_inspect, "conv": cmd_conv}
