"""Geometry of the report's server-drawn SVG charts: numbers and labels only, the templates draw the elements.

The trend charts are drawn in the browser (templates/report.js) because the reader filters them by channel; the
charts here are fixed, so they are computed once and need no script to show.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from northstar.config import ATTRIBUTION_MODELS
from northstar.serve import fmt

# The top of a chart's axis: when a day lies above AXIS_CLIP x the 90th percentile of the days shown (and above
# every value that must stay in view, such as a 7-day average), the axis stops there and the day is marked on the
# top edge with its value on hover. One outlier day (an outage, a checkout breakage) would otherwise flatten every
# other day. templates/report.js (axisTop) applies the same rule to the trend charts drawn in the browser.
AXIS_CLIP = 1.5
AXIS_CLIP_QUANTILE = 0.9
AXIS_CLIP_MIN_DAYS = 10  # fewer days: no percentile worth the name, the axis covers every value

MODEL_COLOURS = {
    "first_touch": "#0ea5e9",
    "last_touch": "#f97316",
    "last_non_direct": "#4f46e5",
    "linear": "#10b981",
    "position_based": "#eab308",
    "time_decay": "#db2777",
    # learned from the journeys (fct_attribution_channel_weights): darker, as the rules' colours are bright
    "markov": "#334155",
    "shapley": "#92400e",
}


def model_label(model: str) -> str:
    return model.replace("_", " ")


def round1(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _quantile(ordered: list[float], p: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default; report.js `quantile` is the same)."""
    pos = p * (len(ordered) - 1)
    lo = math.floor(pos)
    if lo + 1 >= len(ordered):
        return ordered[lo]
    return ordered[lo] + (ordered[lo + 1] - ordered[lo]) * (pos - lo)


def axis_top(values: Sequence[float | None], keep: Sequence[float | None] = ()) -> float:
    """The highest value the axis shows (see AXIS_CLIP): the largest value, unless a day is an outlier."""
    days = sorted(v for v in values if v is not None and math.isfinite(v))
    kept = [v for v in keep if v is not None and math.isfinite(v)]
    top = max([*days, *kept], default=0.0)
    if len(days) < AXIS_CLIP_MIN_DAYS:
        return top
    cap = max(AXIS_CLIP * _quantile(days, AXIS_CLIP_QUANTILE), *kept, 0.0)
    return cap if 0 < cap < top else top


def nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * exp >= v:
            return m * exp
    return 10 * exp


def nice_scale(lo: float, hi: float, steps: int = 4) -> tuple[float, float, float]:
    """(low, high, step) with round ticks covering lo..hi (the same rule as the browser-drawn charts)."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / steps
    step = 10 ** math.floor(math.log10(raw))
    err = raw / step
    step *= 10 if err >= 7.5 else 5 if err >= 3.5 else 2 if err >= 1.5 else 1
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


def dotplot(
    channels: list[str], matrix: dict[tuple[str, str], float], chosen: str, models: Sequence[str] = ATTRIBUTION_MODELS
) -> dict:
    """One row per channel, one dot per attribution model, a line from the lowest to the highest credit."""
    width, left, right, row_h, top = 1180, 170, 40, 30, 34
    height = top + row_h * len(channels) + 10
    nice = nice_max(max([*matrix.values(), 1e-9]))
    scale = (width - left - right) / nice
    grid = [{"x": f"{left + scale * nice * i / 4:.1f}", "label": fmt.count(round(nice * i / 4, 2))} for i in range(5)]
    rows = []
    for row, ch in enumerate(channels):
        values = [(m, matrix.get((ch, m), 0.0)) for m in models]
        lo, hi = min(v for _, v in values), max(v for _, v in values)
        rows.append(
            {
                "y": f"{top + row_h * row + row_h / 2:.1f}",
                "label_y": f"{top + row_h * row + row_h / 2 + 4:.1f}",
                "channel": ch,
                "x1": f"{left + lo * scale:.1f}",
                "x2": f"{left + hi * scale:.1f}",
                "dots": [
                    {
                        "cx": f"{left + v * scale:.1f}",
                        "r": 7 if m == chosen else 5,
                        "fill": MODEL_COLOURS[m],
                        "chosen": m == chosen,
                        "title": f"{ch} · {model_label(m)}: {fmt.count(round1(v))} conversions",
                    }
                    for m, v in values
                ],
            }
        )
    return {"width": width, "height": height, "left": left, "top": top, "grid": grid, "rows": rows}


def line_chart(
    days: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float | None]]],
    tick: Callable[[float, float], str],
    value: Callable[[float | None], str],
    aria: str,
    markers: dict[str, str] | None = None,
    at_least: float = 1.0,
    size: tuple[int, int] = (420, 170),
) -> dict:
    """Lines over days. series: (css class, legend name, values per day); tick(value, step) writes a y-axis
    label, value(v) a value in the hover text.

    markers: day -> text of a red dot on that day (placed on the first series), e.g. an alert. at_least: the
    lowest top of the y axis (a series of zeros still gets a readable axis). size: the viewBox (width, height),
    the width the chart is shown at, so that its text keeps the page's size. A day above the axis (axis_top) is
    drawn on the top edge and listed in `clipped`.
    """
    (width, height), left, right, top, bottom = size, 52, 10, 10, 24
    finite = [v for _, _, vals in series for v in vals if v is not None and math.isfinite(v)]
    lo, hi, step = nice_scale(min([*finite, 0.0]), max(axis_top(finite), at_least))
    n = len(days)

    def x(i: int) -> float:
        return left + (0 if n <= 1 else i * (width - left - right) / (n - 1))

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - (min(v, hi) - lo) / (hi - lo))

    y_ticks = []
    v = lo
    while v <= hi + step / 2:
        y_ticks.append({"y": f"{y(v):.1f}", "label_y": f"{y(v) + 4:.1f}", "label": tick(v, step)})
        v += step
    count = min(max(6, width // 90), n)
    x_ticks = []
    for t in range(count):
        i = round(t * (n - 1) / max(count - 1, 1))
        anchor = "start" if t == 0 else "end" if t == count - 1 else "middle"
        x_ticks.append({"x": f"{x(i):.1f}", "label": _short_day(days[i]), "anchor": anchor})
    lines = []
    for cls, name, vals in series:
        path, pen = [], False
        for i, val in enumerate(vals):
            if val is None or not math.isfinite(val):
                pen = False
                continue
            path.append(f"{'L' if pen else 'M'}{x(i):.1f},{y(val):.1f}")
            pen = True
        lines.append({"cls": cls, "name": name, "d": "".join(path)})
    col = (width - left - right) / (n - 1) if n > 1 else 10.0
    hits = [
        {
            "x": f"{x(i) - col / 2:.1f}",
            "width": f"{col:.1f}",
            "title": f"{day}: " + " · ".join(f"{name} {value(vals[i])}" for _, name, vals in series),
        }
        for i, day in enumerate(days)
    ]
    clipped = [
        {
            # a small triangle on the top edge, pointing up
            "d": f"M{x(i) - 5:.1f},{top + 7}L{x(i):.1f},{top - 2}L{x(i) + 5:.1f},{top + 7}Z",
            "day": day,
            "title": f"{day}: {name} {value(vals[i])} (above the axis)",
        }
        for _, name, vals in series
        for i, day in enumerate(days)
        if vals[i] is not None and math.isfinite(vals[i]) and vals[i] > hi
    ]
    dots = []
    first = series[0][2] if series else []
    for day, text in (markers or {}).items():
        if day in days and first[days.index(day)] is not None:
            i = days.index(day)
            dots.append({"cx": f"{x(i):.1f}", "cy": f"{y(first[i]):.1f}", "title": f"{day}: {text}", "day": day})
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "plot_height": height - top - bottom,
        "axis_y": height - 6,
        "aria": aria,
        "axis_max": hi,
        "clipped": clipped,
        "y_ticks": y_ticks,
        "x_ticks": x_ticks,
        "lines": lines,
        "hits": hits,
        "dots": dots,
    }


def _short_day(day: str) -> str:
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return f"{months[int(day[5:7]) - 1]} {int(day[8:10])}"
