"""Maps shown over images: the colour scale of a map and the blend, for the screen and for
every export (the GUI draws the same live; the colour bar on screen and in files reads
the same :class:`ColorScale`).

A map is drawn in one of two scalings:

* ``"min–max"`` — the map's own minimum → 0, maximum → 1 (shape only; the bar says
  "normalized 0–1" and which raw range that was);
* ``"raw"`` — the values themselves on a range anchored at zero,
  ``[min(0, low), max(0, high)]``, in the map's units.

Values that are not finite (windows not computed yet) stay transparent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.io.colormaps import colorize

MIN_MAX = "min–max"
RAW = "raw"
SCALINGS = (MIN_MAX, RAW)
FLAT = 1e-12


@dataclass(frozen=True)
class ColorScale:
    """What the colours of a map mean: ``low`` … ``high`` of ``units`` through ``colormap``."""

    colormap: str
    low: float
    high: float
    units: str  # what the values are: "attribution value", "drop in p(tabby)", …
    scaling: str = MIN_MAX
    flat: bool = False  # every value equal: nothing to show

    @property
    def title(self) -> str:
        """The bar's label: normalized maps say so and keep their raw range."""
        if self.scaling == MIN_MAX:
            return f"normalized 0–1 ({self.units} {_number(self.low)} … {_number(self.high)})"
        return self.units

    @property
    def title_lines(self) -> list[str]:
        """The title in lines short enough for a bar beside a picture."""
        if self.scaling == MIN_MAX:
            return ["normalized 0–1 of",
                    f"{self.units}: {_number(self.low)} … {_number(self.high)}"]
        return [self.units]

    @property
    def shown_range(self) -> tuple[float, float]:
        """The numbers written at the ends of the bar."""
        return (0.0, 1.0) if self.scaling == MIN_MAX else (self.low, self.high)

    def ticks(self, count: int = 5) -> list[tuple[float, str]]:
        """``(position 0…1 along the bar, text)`` at round values of the shown range."""
        start, stop = self.shown_range
        if stop - start <= FLAT:
            return [(0.0, _number(start))]
        values = _round_ticks(start, stop, count)
        return [((v - start) / (stop - start), _number(v)) for v in values]

    def warning(self) -> str:
        """A plain sentence when the map has nothing to show, else ``""``."""
        if self.flat:
            return f"the map is constant ({self.units} = {_number(self.low)} everywhere)"
        return ""


def color_scale(heat, colormap: str = "inferno", units: str = "value",
                scaling: str = MIN_MAX, limits: tuple[float, float] | None = None) -> ColorScale:
    """The scale :func:`display_values` uses for ``heat`` (a clip is averaged over time);
    ``limits`` fixes the range (one range for many maps, e.g. a video's frames)."""
    values = _frame(heat)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if limits is not None:
        low, high = float(limits[0]), float(limits[1])
    flat = high - low <= FLAT * max(1.0, abs(high))
    if scaling == RAW:
        low, high = min(0.0, low), max(0.0, high)
    elif scaling != MIN_MAX:
        raise ValueError(f"scaling must be one of {SCALINGS}, not {scaling!r}")
    return ColorScale(colormap, low, high, units, scaling, flat)


def display_values(heat, scale: ColorScale) -> np.ndarray:
    """``heat`` as positions 0…1 on ``scale`` (NaN where the map has no value)."""
    values = _frame(heat)
    if scale.scaling == MIN_MAX and scale.flat:
        return np.where(np.isfinite(values), 0.0, np.nan).astype(np.float32)
    span = max(scale.high - scale.low, FLAT)
    return np.clip((values - scale.low) / span, 0.0, 1.0).astype(np.float32)


def overlay(image: np.ndarray, heat: np.ndarray, colormap: str = "inferno",
            opacity: float = 0.5, threshold: float = 0.0, scaling: str = MIN_MAX,
            units: str = "value") -> np.ndarray:
    """Blend ``heat`` (H, W) over ``image`` (H, W, 3); values under ``threshold`` (a
    position 0…1 on the colour bar) and missing values stay clear."""
    scale = color_scale(heat, colormap, units, scaling)
    values = display_values(heat, scale)
    known = np.isfinite(values)
    colors = colorize(np.where(known, values, 0.0), colormap)
    alpha = np.where(known & (values >= threshold), opacity, 0.0)[..., None].astype(np.float32)
    return (image * (1 - alpha) + colors * alpha).astype(np.float32)


def _frame(heat) -> np.ndarray:
    values = np.asarray(heat, dtype=np.float32)
    if values.ndim == 3:
        with np.errstate(invalid="ignore"):
            values = np.nanmean(values, axis=0) if np.isnan(values).any() else values.mean(0)
    return values


def _round_ticks(start: float, stop: float, count: int) -> list[float]:
    raw_step = (stop - start) / max(1, count - 1)
    magnitude = 10 ** np.floor(np.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    first = np.ceil(start / step - 1e-9) * step
    values = np.arange(first, stop + step * 1e-6, step)
    return [float(0.0 if abs(v) < step * 1e-9 else v) for v in values]


def _number(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000 or magnitude < 0.01:
        return f"{value:.2g}"
    return f"{value:.3g}"
