"""The trend chart: one estimate per period with its interval, trusted periods joined by a
line over a shaded band, periods below the minimum n as hollow grey markers, and the counts
and period labels under the axis, thinned to what fits on a phone.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import offset_copy

from analysis.charts.common import (
    AXIS,
    FONT_PT,
    GRID,
    INK,
    LABEL_PAD,
    LOW,
    MAIN,
    MUTED,
    N_ROW_PAD,
    PAD,
    SMALL_PT,
    TICK_PAD,
    TICK_PT,
    WIDTH_PT,
    ImageFormat,
    block_height,
    chart_font,
    figure_with_axes,
    format_number,
    put_text,
    render_chart,
    text_width,
    wrap_text,
)
from analysis.results import Estimate

_TREND_PLOT_PT = 160.0

# Keyword arguments of a hollow grey marker: a point below the minimum n.
_HOLLOW: dict[str, Any] = {
    "marker": "o",
    "ms": 7,
    "mfc": "white",
    "mec": LOW,
    "mew": 1.6,
    "ls": "none",
}


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One period of a trend: its label (``"2026-W45"``, ``"2026-11"``) and its estimate."""

    label: str
    estimate: Estimate


def trend_chart(
    points: Sequence[SeriesPoint],
    *,
    title: str,
    y_label: str,
    y_range: tuple[float, float],
    min_n: int = 30,
    n_label: str = "n",
    empty_text: str = "No answers in this period",
    small_n_text: str = "fewer than {min_n} answers",
    image_format: ImageFormat = "svg",
    break_at: float | None = None,
    break_text: str = "",
) -> bytes:
    """Draw one estimate per period with its interval as a shaded band.

    Points with ``n >= min_n`` are filled and joined by a line over their interval band;
    points below ``min_n`` are hollow grey markers with a thin grey interval, joined to
    nothing, and a key above the plot explains them. Periods with no value (n = 0) leave a
    gap. Under the x axis, a row of small grey counts (led by ``n_label``) sits above the
    period labels. Both rows are thinned to every k-th period, counted back from the
    newest, when they would otherwise overlap at phone width; the counts need less room,
    so they thin less, and every labelled period keeps its count.

    Parameters
    ----------
    points : sequence of SeriesPoint
        Periods in time order, oldest first.
    title, y_label : str
        Already translated texts; long ones wrap onto two lines.
    y_range : (float, float)
        The fixed y limits, e.g. ``(-100, 100)`` for NPS, ``(0, 100)`` for CSAT in percent.
        Fixed rather than fitted so that charts of different stores compare at a glance.
    min_n : int
        Below this many answers a point is shown but not trusted.
    n_label : str
        The row label for the counts.
    empty_text : str
        Shown instead of a plot when ``points`` is empty.
    small_n_text : str
        Legend text for hollow points; ``{min_n}`` is replaced by the threshold.
    image_format : {'svg', 'png'}
        SVG (responsive, text as paths) or a 640 px wide PNG.
    break_at : float, optional
        Where a dashed vertical line marks a break in the series (a change of wording that
        makes values on either side incomparable), in period positions: ``i - 0.5`` is
        just before period ``i``, ``i`` through its middle (a period that straddles the
        break). ``None`` (default): no line.
    break_text : str
        The line's label, written at its top (beside it, on the side with more room).

    Returns
    -------
    bytes
        The encoded image. SVG groups carry ids: ``trend-points-ok`` and
        ``trend-points-low`` (one ``<use>`` per marker), ``trend-intervals-low``,
        ``trend-band-<k>`` and ``trend-line-<k>`` per run of trusted periods,
        ``trend-n-<i>`` and ``trend-label-<i>`` per written count and period label,
        ``trend-key`` when there are small periods, and ``trend-break`` and
        ``trend-break-label`` for a break.

    References
    ----------
    .. [1] Matplotlib gallery, "Embed in a web application server (Flask)": build a
       ``Figure`` directly rather than through pyplot.
    """
    y_low, y_high = y_range
    if not y_low < y_high:
        raise ValueError(f"y_range must be (low, high) with low < high, not {y_range!r}")
    if break_at is not None and not -0.5 <= break_at <= len(points) - 0.5:
        raise ValueError(f"break_at must lie within the periods, not {break_at!r}")
    draw = (
        functools.partial(
            _trend_figure,
            points,
            title,
            y_label,
            (y_low, y_high),
            min_n,
            n_label,
            small_n_text,
            (break_at, break_text),
        )
        if points
        else None
    )
    return render_chart(
        draw, title=title, desc=None, empty_text=empty_text, image_format=image_format
    )


def _trend_figure(
    points: Sequence[SeriesPoint],
    title: str,
    y_label: str,
    y_range: tuple[float, float],
    min_n: int,
    n_label: str,
    small_n_text: str,
    series_break: tuple[float | None, str],
) -> Figure:
    count = len(points)
    values = [p.estimate.value for p in points]
    trusted = [v is not None and p.estimate.n >= min_n for p, v in zip(points, values, strict=True)]
    any_small = any(v is not None and not ok for v, ok in zip(values, trusted, strict=True))
    at = _trend_layout(points, y_label, y_range, n_label, any_small)
    fig, ax = figure_with_axes(
        title, plot_h=_TREND_PLOT_PT, left=at.left, right=at.right, above=at.above, below=at.below
    )
    ax.set_xlim(at.x_start, count - 0.5)
    ax.set_ylim(*y_range)
    # No Axis machinery at all (its Tick objects, two lines, a grid line and two labels
    # each, cost more than the rest of the chart): grid, baseline and axis texts are
    # drawn by hand at the measured offsets.
    ax.set_axis_off()
    ax.hlines(at.y_ticks, at.x_start, count - 0.5, color=GRID, lw=0.8, zorder=0.5, gid="trend-grid")
    ax.hlines(y_range[0], at.x_start, count - 0.5, color=AXIS, lw=0.8, zorder=0.6, clip_on=False)
    _draw_series(ax, points, values, trusted)
    if series_break[0] is not None:
        _draw_break(fig, ax, series_break[0], series_break[1], count)
    _draw_axis_texts(fig, ax, at, n_label)
    if any_small:
        _draw_key(fig, ax, at.key_h, small_n_text.replace("{min_n}", str(min_n)))
    return fig


def _draw_series(
    ax: Axes,
    points: Sequence[SeriesPoint],
    values: Sequence[float | None],
    trusted: Sequence[bool],
) -> None:
    """The bands and lines of each run of trusted periods, then the markers."""
    count = len(points)
    for k, run in enumerate(_runs(trusted)):
        lows = [_bound(points[i].estimate.low, values[i]) for i in run]
        highs = [_bound(points[i].estimate.high, values[i]) for i in run]
        if len(run) == 1:
            # A lone trusted period has no neighbour to make a band with: a wide
            # translucent stroke gives its interval the same look.
            ax.plot(
                run * 2,
                [lows[0], highs[0]],
                color=MAIN,
                alpha=0.2,
                lw=9,
                solid_capstyle="butt",
                gid=f"trend-band-{k}",
            )
        else:
            ax.fill_between(run, lows, highs, color=MAIN, alpha=0.18, lw=0, gid=f"trend-band-{k}")
            ys = [_bound(values[i], None) for i in run]
            ax.plot(run, ys, color=MAIN, lw=2, gid=f"trend-line-{k}")

    # One artist per kind rather than per point: each SVG group holds one <use> per marker.
    ok = [i for i in range(count) if trusted[i]]
    small = [i for i in range(count) if values[i] is not None and not trusted[i]]
    ax.plot(
        ok,
        [_bound(values[i], None) for i in ok],
        marker="o",
        ms=7,
        color=MAIN,
        ls="none",
        gid="trend-points-ok",
    )
    if small:
        ax.vlines(
            small,
            [_bound(points[i].estimate.low, values[i]) for i in small],
            [_bound(points[i].estimate.high, values[i]) for i in small],
            color=LOW,
            lw=1,
            gid="trend-intervals-low",
        )
        ax.plot(small, [_bound(values[i], None) for i in small], gid="trend-points-low", **_HOLLOW)


def _draw_break(fig: Figure, ax: Axes, at: float, text: str, count: int) -> None:
    """A dashed vertical line through the plot at ``at``, labelled at its top on the side
    with more room."""
    ax.axvline(at, color=INK, ls=(0, (4, 3)), lw=1.2, zorder=3, gid="trend-break")
    if not text:
        return
    right_side = at < (count - 1) / 2
    label_at = offset_copy(
        ax.get_xaxis_transform(), fig=fig, x=3 if right_side else -3, y=-3, units="points"
    )
    put_text(
        fig,
        at,
        1,
        text,
        label_at,
        ha="left" if right_side else "right",
        va="top",
        size=SMALL_PT,
        color=INK,
        gid="trend-break-label",
    )


def _draw_axis_texts(fig: Figure, ax: Axes, at: _TrendLayout, n_label: str) -> None:
    """The y tick labels and title, the row of counts with its label and the period labels."""
    count = len(at.labels)
    left_of_plot = offset_copy(ax.get_yaxis_transform(), fig=fig, x=-TICK_PAD, units="points")
    for k, (y, text) in enumerate(zip(at.y_ticks, at.y_tick_labels, strict=True)):
        put_text(fig, 0, y, text, left_of_plot, ha="right", size=TICK_PT, gid=f"trend-y-label-{k}")
    y_label_anchor = offset_copy(ax.transAxes, fig=fig, x=-at.y_label_at, units="points")
    put_text(fig, 0, 0.5, at.y_text, y_label_anchor, ha="right", rotation=90, gid="trend-y-title")
    n_row = offset_copy(ax.get_xaxis_transform(), fig=fig, y=-N_ROW_PAD, units="points")
    for i in _every_kth_from_last(count, at.n_step):
        put_text(
            fig,
            i,
            0,
            at.counts[i],
            n_row,
            va="top",
            size=SMALL_PT,
            color=MUTED,
            gid=f"trend-n-{i}",
        )
    n_row_label = offset_copy(ax.transAxes, fig=fig, x=-TICK_PAD, y=-N_ROW_PAD, units="points")
    put_text(
        fig,
        0,
        0,
        n_label,
        n_row_label,
        ha="right",
        va="top",
        size=SMALL_PT,
        color=MUTED,
        gid="trend-n-label",
    )
    label_row = offset_copy(ax.get_xaxis_transform(), fig=fig, y=-at.label_row_at, units="points")
    for i in _every_kth_from_last(count, at.label_step):
        put_text(fig, i, 0, at.labels[i], label_row, va="top", size=TICK_PT, gid=f"trend-label-{i}")


def _draw_key(fig: Figure, ax: Axes, key_h: float, text: str) -> None:
    """The key: a hollow marker and its text, just above the plot's top left corner."""
    key_at = offset_copy(ax.transAxes, fig=fig, x=5, y=2 + key_h / 2, units="points")
    ax.plot([0], [1], transform=key_at, clip_on=False, gid="trend-key-marker", **_HOLLOW)
    key_text_at = offset_copy(ax.transAxes, fig=fig, x=16, y=2 + key_h / 2, units="points")
    put_text(
        fig,
        0,
        1,
        text,
        key_text_at,
        ha="left",
        size=SMALL_PT,
        color=MUTED,
        gid="trend-key",
    )


@dataclass(frozen=True, slots=True)
class _TrendLayout:
    """Where the trend's texts go, measured before the figure exists (points): the y ticks
    and their labels, the wrapped y title and its offset, the margins, the x axis start
    (room for the first count), the thinning steps of the count and label rows and the
    offset of the label row."""

    y_ticks: list[float]
    y_tick_labels: list[str]
    y_text: str
    y_label_at: float
    labels: list[str]
    counts: list[str]
    left: float
    right: float
    above: float
    below: float
    x_start: float
    n_step: int
    label_step: int
    label_row_at: float
    key_h: float


def _trend_layout(
    points: Sequence[SeriesPoint],
    y_label: str,
    y_range: tuple[float, float],
    n_label: str,
    any_small: bool,
) -> _TrendLayout:
    count = len(points)
    tick_prop, small_prop, label_prop = (
        chart_font(TICK_PT),
        chart_font(SMALL_PT),
        chart_font(FONT_PT),
    )
    # Margins from the texts that will sit there.
    y_ticks = [
        float(v)
        for v in MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(*y_range)
        if y_range[0] - 1e-9 <= v <= y_range[1] + 1e-9
    ]
    y_tick_labels = [format_number(v) for v in y_ticks]
    y_text = wrap_text(y_label, _TREND_PLOT_PT - 8, label_prop)
    tick_column = max(
        [*(text_width(t, tick_prop) for t in y_tick_labels), text_width(n_label, small_prop)]
    )
    y_label_at = TICK_PAD + tick_column + LABEL_PAD
    left = PAD + block_height(y_text, label_prop) + y_label_at  # rotated: height is width
    labels = [p.label for p in points]
    counts = [str(p.estimate.n) for p in points]
    # The last label, centred on the last point, may stick out past the plot: widen the
    # right margin by that much. The first count must clear the n row label at the left:
    # start the x axis that much before the first point.
    slot = (WIDTH_PT - left - PAD) / count
    overhang = max(text_width(labels[-1], tick_prop), text_width(counts[-1], small_prop))
    right = PAD + max(0.0, overhang / 2 - slot / 2)
    slot = (WIDTH_PT - left - right) / count
    lead = max(0.0, text_width(counts[0], small_prop) / 2 + 4 - slot / 2)
    slot = (WIDTH_PT - left - right - lead) / count
    x_start = -0.5 - lead / slot

    # Period labels need a clear gap to read as separate words; bare counts less so.
    n_step = _thinning_step(counts, small_prop, slot, gap_em=0.5)
    label_step = _thinning_step(labels, tick_prop, slot, gap_em=1.0)
    # Every labelled period also shows its n, so the two rows line up.
    label_step = math.ceil(label_step / n_step) * n_step

    label_row_at = N_ROW_PAD + block_height("0", small_prop) + 5
    below = label_row_at + block_height("0", tick_prop)
    key_h = block_height("0", small_prop)
    # Room for the key of hollow points, or at least for the top y tick label's upper half.
    above = key_h + 4 if any_small else block_height("0", tick_prop) / 2
    return _TrendLayout(
        y_ticks=y_ticks,
        y_tick_labels=y_tick_labels,
        y_text=y_text,
        y_label_at=y_label_at,
        labels=labels,
        counts=counts,
        left=left,
        right=right,
        above=above,
        below=below,
        x_start=x_start,
        n_step=n_step,
        label_step=label_step,
        label_row_at=label_row_at,
        key_h=key_h,
    )


def _thinning_step(
    texts: Sequence[str], prop: FontProperties, slot_pt: float, gap_em: float
) -> int:
    """Show every k-th label, the smallest k that keeps ``gap_em`` ems between labels."""
    widest = max((text_width(text, prop) for text in texts), default=0.0)
    needed = widest + gap_em * prop.get_size_in_points()
    return max(1, math.ceil(needed / max(slot_pt, 1e-9)))


def _every_kth_from_last(count: int, step: int) -> list[int]:
    # Anchored on the newest period: that is the one the reader came to see.
    return [i for i in range(count) if (count - 1 - i) % step == 0]


def _runs(flags: Sequence[bool]) -> list[list[int]]:
    """Indices of consecutive True values, one list per run."""
    runs: list[list[int]] = []
    for i, flag in enumerate(flags):
        if not flag:
            continue
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _bound(bound: float | None, value: float | None) -> float:
    # An interval end is missing only when the value is (n = 0); such points are skipped
    # before this, so falling back to the value keeps mypy honest without hiding data.
    if bound is not None:
        return bound
    return value if value is not None else math.nan
