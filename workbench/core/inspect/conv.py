"""Convolution arithmetic for the questions students ask: output size, parameters, MACs,
receptive field, and the convolution unrolled into one matrix multiplication.

Dumoulin & Visin, "A guide to convolution arithmetic for deep learning", 2016,
https://arxiv.org/abs/1603.07285 (output size ``⌊(W − F + 2P)/S⌋ + 1``, dilated
``⌊(W − D·(F − 1) − 1 + 2P)/S⌋ + 1``; the convolution as a sparse matrix).
Vectors flatten channels-last, ``(h, w, c)``: column ``(y·W + x)·C + c``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.errors import InputError

MAX_MATRIX_ENTRIES = 4_000_000


def number(n) -> str:
    """``9408`` → ``9 408``."""
    return f"{int(n):,}".replace(",", " ")


def output_size(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def output_formula(n: int, k: int, s: int, p: int, d: int) -> str:
    """``⌊(224 − 7 + 2·3)/2⌋ + 1 = 112`` (with the dilated kernel extent when d > 1)."""
    extent = f"{k}" if d == 1 else f"({d}·({k} − 1) + 1)"
    return f"⌊({n} − {extent} + 2·{p})/{s}⌋ + 1 = {output_size(n, k, s, p, d)}"


def axis_formula(n: int, out: int, k: int, s: int, p: int, d: int) -> str:
    """The output-size formula of one axis; "same" padding (asymmetric) when it explains
    the output size better than the symmetric padding before."""
    if output_size(n, k, s, p, d) == out:
        return output_formula(n, k, s, p, d)
    added = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
    return f"⌈{n}/{s}⌉ = {out} (“same” padding, {added} added)"


def _axis_formulas(values) -> str:
    return "; ".join(dict.fromkeys(values))


def layer_formulas(row, mod, rf_formula: str) -> dict[str, str]:
    """``{column: formula}`` for a table row (output, params, macs, rf where they apply)."""
    formulas = {}
    if row.kernel and row.stride and row.padding and row.dilation and row.input_shape \
            and row.output_shape and len(row.input_shape) == len(row.output_shape) \
            and not isinstance(row.padding, str):
        grid = row.input_shape[2:]
        if len(grid) == len(row.kernel):
            formulas["output"] = _axis_formulas(
                axis_formula(*args) for args in zip(grid, row.output_shape[2:], row.kernel,
                                                    row.stride, row.padding, row.dilation,
                                                    strict=True))
    params = params_formula(mod, row.params_trainable)
    if params:
        formulas["params"] = params
    macs = macs_formula(mod, row)
    if macs:
        formulas["macs"] = macs
    if rf_formula:
        formulas["rf"] = rf_formula
    return formulas


def params_formula(mod, total: int) -> str:
    """``7·7·3/1·64 + 0 = 9 408`` for a convolution, ``512·1000 + 1000`` for a linear layer."""
    weight, bias = getattr(mod, "weight", None), getattr(mod, "bias", None)
    nbias = bias.numel() if bias is not None and hasattr(bias, "numel") else 0
    if weight is None or not hasattr(weight, "shape"):
        return f"sum over its parts = {number(total)}" if total else ""
    if hasattr(mod, "kernel_size") and weight.ndim >= 3:
        cout, cin_g = weight.shape[:2]
        groups = getattr(mod, "groups", 1)
        taps = "·".join(map(str, weight.shape[2:]))
        return f"{taps}·{cin_g * groups}/{groups}·{cout} + {nbias} = {number(total)}"
    if weight.ndim == 2:
        return f"{weight.shape[1]}·{weight.shape[0]} + {nbias} = {number(total)}"
    if weight.ndim == 1 and nbias:
        return f"2·{weight.shape[0]} = {number(total)}"
    return f"{number(total)}"


def macs_formula(mod, row) -> str:
    """``112·112·64 · 7·7·3/1 = …``: output values times the multiplications of each."""
    weight = getattr(mod, "weight", None)
    if weight is None or not hasattr(weight, "shape") or not row.output_shape or not row.macs:
        return ""
    if hasattr(mod, "kernel_size") and weight.ndim >= 3:
        outs = "·".join(map(str, row.output_shape[1:]))
        taps = "·".join(map(str, weight.shape[2:]))
        return f"{outs} · {taps}·{weight.shape[1]} = {number(row.macs)}"
    if weight.ndim == 2:
        rows = int(np.prod(row.output_shape[1:-1])) if len(row.output_shape) > 2 else 1
        lead = f"{rows} · " if rows > 1 else ""
        return f"{lead}{weight.shape[1]}·{weight.shape[0]} = {number(row.macs)}"
    return ""


@dataclass
class ConvAnswer:
    """One convolution layer's arithmetic."""

    input: tuple  # (H, W, C)
    output: tuple  # (H', W', C_out)
    params: int
    macs: int
    receptive_field: int
    jump: int
    matrix_shape: tuple[int, int]  # (H'·W'·C_out, H·W·C): rows = outputs, columns = inputs
    nonzeros: int
    formulas: dict[str, str]


def _check(h, w, c, kernel, out_channels, stride, padding, dilation) -> None:
    for name, value in (("H", h), ("W", w), ("C", c), ("kernel", kernel),
                        ("out channels", out_channels), ("stride", stride),
                        ("dilation", dilation)):
        if int(value) != value or value < 1:
            raise InputError(f"{name} must be a positive whole number, got {value}")
    if int(padding) != padding or padding < 0:
        raise InputError(f"padding must be 0 or more, got {padding}")
    extent = dilation * (kernel - 1) + 1
    if extent > min(h, w) + 2 * padding:
        raise InputError(f"a {kernel}×{kernel} kernel (extent {extent}) does not fit a "
                         f"{h}×{w} input with padding {padding}")


def _taps_inside(n: int, k: int, s: int, p: int, d: int) -> int:
    """Kernel taps that land on the input (not on padding), summed over output positions."""
    out = output_size(n, k, s, p, d)
    pos = np.arange(out)[:, None] * s - p + np.arange(k)[None, :] * d
    return int(((pos >= 0) & (pos < n)).sum())


def conv_answer(h, w, c, kernel, out_channels, stride=1, padding=0, dilation=1) -> ConvAnswer:
    """Output size, parameters, MACs, receptive field and the unrolled matrix of one
    ``kernel``×``kernel`` convolution of a ``h``×``w``×``c`` input (bias included)."""
    _check(h, w, c, kernel, out_channels, stride, padding, dilation)
    k, s, p, d = kernel, stride, padding, dilation
    oh, ow = output_size(h, k, s, p, d), output_size(w, k, s, p, d)
    params = k * k * c * out_channels + out_channels
    macs = oh * ow * out_channels * k * k * c
    rf = d * (k - 1) + 1
    rows, cols = oh * ow * out_channels, h * w * c
    nonzeros = _taps_inside(h, k, s, p, d) * _taps_inside(w, k, s, p, d) * c * out_channels
    formulas = {
        "output": f"H' = {output_formula(h, k, s, p, d)}, W' = {output_formula(w, k, s, p, d)}"
                  f" → {oh}×{ow}×{out_channels} (flattened 1×{number(oh * ow * out_channels)})",
        "params": f"{k}·{k}·{c}·{out_channels} + {out_channels} = {number(params)} "
                  f"(weights F·F·C·C_out plus one bias per filter)",
        "macs": f"{oh}·{ow}·{out_channels} · {k}·{k}·{c} = {number(macs)}",
        "receptive_field": f"r = {d}·({k} − 1) + 1 = {rf}, j = {s}",
        "matrix": f"{number(rows)}×{number(cols)} (rows = outputs H'·W'·C_out = "
                  f"{oh}·{ow}·{out_channels}, columns = inputs H·W·C = {h}·{w}·{c}); as x·K "
                  f"with inputs as rows: {number(cols)}×{number(rows)}",
        "nonzeros": f"{number(nonzeros)} of {number(rows * cols)} "
                    f"({100 * nonzeros / (rows * cols):.2f} %): each output row holds at most "
                    f"{k}·{k}·{c} = {k * k * c} weights",
    }
    return ConvAnswer((h, w, c), (oh, ow, out_channels), params, macs, rf, s, (rows, cols),
                      nonzeros, formulas)


def conv_matrix(h, w, c, kernel, out_channels=1, stride=1, padding=0, dilation=1,
                weights=None) -> np.ndarray:
    """The dense ``(H'·W'·C_out, H·W·C)`` matrix ``K`` with ``y = K·x`` (channels-last
    flattening).  ``weights`` ``(C_out, C, F, F)``; by default ``1, 2, 3 …`` so that the
    pattern of non-zeros is visible."""
    _check(h, w, c, kernel, out_channels, stride, padding, dilation)
    k, s, p, d = kernel, stride, padding, dilation
    oh, ow = output_size(h, k, s, p, d), output_size(w, k, s, p, d)
    rows, cols = oh * ow * out_channels, h * w * c
    if rows * cols > MAX_MATRIX_ENTRIES:
        raise InputError(f"the matrix would be {number(rows)}×{number(cols)}; only inputs "
                         f"up to {number(MAX_MATRIX_ENTRIES)} entries are drawn")
    if weights is None:
        weights = np.arange(1, out_channels * c * k * k + 1, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64).reshape(out_channels, c, k, k)
    oy, ox, ky, kx = np.meshgrid(np.arange(oh), np.arange(ow), np.arange(k), np.arange(k),
                                 indexing="ij")
    iy, ix = oy * s - p + ky * d, ox * s - p + kx * d
    keep = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
    oy, ox, ky, kx, iy, ix = (a[keep] for a in (oy, ox, ky, kx, iy, ix))
    co, ci = np.arange(out_channels), np.arange(c)
    row = ((oy * ow + ox) * out_channels)[:, None, None] + co[None, :, None]
    col = ((iy * w + ix) * c)[:, None, None] + ci[None, None, :]
    matrix = np.zeros((rows, cols))
    matrix[row, col] = weights[co[None, :, None], ci[None, None, :], ky[:, None, None],
                               kx[:, None, None]]
    return matrix
