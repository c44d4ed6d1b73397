"""Horizontal bar charts with interval whiskers: driver correlations (Spearman's rho of each
rating with the overall score) and category shares in percent, each row with its n, rows
below the minimum n in grey.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import offset_copy

from analysis.charts.common import (
    AXIS,
    BAR,
    FONT_PT,
    GRID,
    INK,
    LABEL_PAD,
    LOW,
    LOW_BAR,
    MUTED,
    PAD,
    SMALL_PT,
    TICK_PAD,
    TICK_PT,
    WIDTH_PT,
    ImageFormat,
    block_height,
    block_width,
    chart_font,
    figure_with_axes,
    format_number,
    put_text,
    render_chart,
    text_width,
    within,
    wrap_text,
)
from analysis.results import Estimate


@dataclass(frozen=True, slots=True)
class _Bar:
    """One row of a horizontal bar chart, already in the axis' units."""

    label: str
    value: float | None
    low: float | None
    high: float | None
    note: str
    small: bool


def driver_chart(
    drivers: Sequence[tuple[str, Estimate]],
    *,
    title: str,
    x_label: str,
    min_n: int = 30,
    n_label: str = "n",
    empty_text: str = "No answers in this period",
    image_format: ImageFormat = "svg",
) -> bytes:
    """Draw Spearman's rho of each rating with the overall score, as horizontal bars.

    Rows keep the given order, top to bottom. Each bar runs from 0 to rho with a whisker
    for its interval and ``n=<count>`` past its end; rows below ``min_n`` are grey. The
    x axis is 0..1 when every bar and interval is non-negative, otherwise -1..1 with a
    line at 0.

    Parameters
    ----------
    drivers : sequence of (str, Estimate)
        Rating name (may be Chinese; wraps onto two lines) and rho with its interval, on
        -1..1.
    title, x_label : str
        Already translated texts.
    min_n : int
        Below this many paired answers a row is greyed.
    n_label : str
        Prefix of the count at each bar end.
    empty_text : str
        Shown instead of a plot when ``drivers`` is empty.
    image_format : {'svg', 'png'}
        SVG (responsive, text as paths) or PNG.

    Returns
    -------
    bytes
        The encoded image; bars have SVG ids ``driver-bar-ok-<i>``/``driver-bar-low-<i>``
        and whiskers ``driver-interval-<i>``.

    Raises
    ------
    ValueError
        If rho or an interval end lies outside -1..1.

    References
    ----------
    .. [1] C. Spearman, "The proof and measurement of association between two things",
       American Journal of Psychology 15 (1904), 72-101.
    """
    bars: list[_Bar] = []
    for name, est in drivers:
        value, low, high = (within(v, -1.0, 1.0, f"rho of {name!r}", est) for v in _ends(est))
        note = f"{n_label}={est.n}"
        bars.append(_Bar(name, value, low, high, note, small=est.n < min_n))
    ends = [b for bar in bars for b in (bar.value, bar.low) if b is not None]
    signed = any(b < 0 for b in ends)
    ticks = [-1.0, -0.5, 0.0, 0.5, 1.0] if signed else [0.0, 0.25, 0.5, 0.75, 1.0]
    draw = (
        functools.partial(
            _bar_figure, bars, title, x_label, ticks, [format_number(t) for t in ticks], "driver"
        )
        if bars
        else None
    )
    return render_chart(
        draw, title=title, desc=None, empty_text=empty_text, image_format=image_format
    )


def category_chart(
    shares: Sequence[tuple[str, Estimate]],
    *,
    title: str,
    x_label: str,
    min_n: int = 30,
    empty_text: str = "No answers in this period",
    image_format: ImageFormat = "svg",
) -> bytes:
    """Draw the share of answers in each category as horizontal bars, in percent.

    Rows keep the given order, top to bottom. Each bar has a whisker for its interval and
    ``<percent> (<count>/<n>)`` past its end, where count = round(share × n); rows whose n
    is below ``min_n`` are grey; a category without answers gets no bar and "–". The x
    axis runs from 0 % to the first round tick (at least 10 %) at or above the highest bar
    or interval end, so small shares stay legible.

    Parameters
    ----------
    shares : sequence of (str, Estimate)
        Category name and its share as a proportion on 0..1 (the :mod:`analysis.results`
        convention), with its interval (e.g. Wilson) and n = answers asked.
    title, x_label : str
        Already translated texts.
    min_n : int
        Below this many answers a row is greyed.
    empty_text : str
        Shown instead of a plot when ``shares`` is empty.
    image_format : {'svg', 'png'}
        SVG (responsive, text as paths) or PNG.

    Returns
    -------
    bytes
        The encoded image; bars have SVG ids ``category-bar-ok-<i>``/``category-bar-low-<i>``
        and whiskers ``category-interval-<i>``.

    Raises
    ------
    ValueError
        If a share or interval end lies outside 0..1 (percentages passed by mistake).

    References
    ----------
    .. [1] E. B. Wilson, "Probable inference, the law of succession, and statistical
       inference", JASA 22 (1927), 209-212.
    """
    bars: list[_Bar] = []
    for name, est in shares:
        what = f"share of {name!r} (a proportion)"
        value, low, high = (within(v, 0.0, 1.0, what, est) for v in _ends(est))
        note = "–" if value is None else _share_note(value, est.n)
        value, low, high = (None if v is None else v * 100 for v in (value, low, high))
        bars.append(_Bar(name, value, low, high, note, small=est.n < min_n))
    draw = functools.partial(_category_figure, bars, title, x_label) if bars else None
    return render_chart(
        draw, title=title, desc=None, empty_text=empty_text, image_format=image_format
    )


def _category_figure(bars: Sequence[_Bar], title: str, x_label: str) -> Figure:
    ticks = _share_ticks(bars)
    return _bar_figure(bars, title, x_label, ticks, [f"{t:g}%" for t in ticks], "category")


def _ends(est: Estimate) -> tuple[float | None, float | None, float | None]:
    return est.value, est.low, est.high


def _share_ticks(bars: Sequence[_Bar]) -> list[float]:
    """Round ticks from 0 % to the first one at or above the highest bar or whisker."""
    top = max((v for bar in bars for v in (bar.value, bar.high) if v is not None), default=0.0)
    top = min(100.0, max(10.0, top))
    ticks: list[float] = []
    for tick in MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(0, top):
        if 0 <= tick <= 100 and (not ticks or ticks[-1] < top):
            ticks.append(float(tick))
    return ticks


def _share_note(share: float, n: int) -> str:
    percent = share * 100
    shown = f"{percent:.1f}" if 0 < percent < 10 else f"{percent:.0f}"
    # No middle dot: CJK fonts draw U+00B7 full width.
    return f"{shown}% ({round(share * n)}/{n})"


def _bar_figure(
    bars: Sequence[_Bar],
    title: str,
    x_label: str,
    x_ticks: Sequence[float],
    x_tick_labels: Sequence[str],
    prefix: str,
) -> Figure:
    """Horizontal bars with interval whiskers and a note past each bar's end."""
    tick_prop, small_prop, label_prop = (
        chart_font(TICK_PT),
        chart_font(SMALL_PT),
        chart_font(FONT_PT),
    )
    labels = [wrap_text(bar.label, 0.36 * WIDTH_PT, tick_prop) for bar in bars]
    low_edge, high_edge = x_ticks[0], x_ticks[-1]
    left = PAD + max(block_width(label, tick_prop) for label in labels) + TICK_PAD
    # Each note starts 5 pt past its bar's end (the fraction f of the plot width) and
    # must end inside the figure: f * plot + 5 + width <= plot + right - pad. Solve for
    # right with plot = width_pt - left - right.
    room = WIDTH_PT - left
    right = PAD + text_width(x_tick_labels[-1], tick_prop) / 2
    for bar in bars:
        end = max([0.0, *(v for v in (bar.value, bar.high) if v is not None)])
        f = (min(end, high_edge) - low_edge) / (high_edge - low_edge)
        need = 5 + text_width(bar.note, small_prop) + PAD
        if f > 0:
            right = max(right, room - (room - need) / f)
    x_text = wrap_text(x_label, WIDTH_PT - 2 * PAD, label_prop)
    x_label_at = TICK_PAD + block_height("0", tick_prop) + LABEL_PAD
    below = x_label_at + block_height(x_text, label_prop)
    row_h = max(30.0, max(block_height(label, tick_prop) for label in labels) + 12)
    fig, ax = figure_with_axes(
        title, plot_h=row_h * len(bars), left=left, right=right, above=0, below=below
    )
    ax.set_ylim(len(bars) - 0.5, -0.5)  # first row on top, as given
    ax.set_xlim(low_edge, high_edge)
    ax.set_axis_off()  # as in the trend chart: lines and axis texts by hand
    ax.vlines(x_ticks, -0.5, len(bars) - 0.5, color=GRID, lw=0.8, zorder=0.5, gid=f"{prefix}-grid")
    # The baseline, and the zero line (the left edge when nothing is negative).
    ax.hlines(len(bars) - 0.5, low_edge, high_edge, color=AXIS, lw=0.8, clip_on=False)
    ax.vlines(0, -0.5, len(bars) - 0.5, color=AXIS, lw=0.8, zorder=2.5, clip_on=False)

    _draw_bars(fig, ax, bars, high_edge, prefix)
    _draw_axis_texts(fig, ax, labels, bars, x_ticks, x_tick_labels, x_text, x_label_at, prefix)
    return fig


def _draw_bars(fig: Figure, ax: Axes, bars: Sequence[_Bar], high_edge: float, prefix: str) -> None:
    """Each bar, its interval whisker and the note past its end (clipped at ``high_edge``)."""
    note_offset = offset_copy(ax.transData, fig=fig, x=5, units="points")
    for i, bar in enumerate(bars):
        status = "low" if bar.small else "ok"
        if bar.value is not None:
            ax.barh(
                i,
                bar.value,
                height=0.62,
                color=LOW_BAR if bar.small else BAR,
                gid=f"{prefix}-bar-{status}-{i}",
            )
        if bar.low is not None and bar.high is not None:
            ax.plot(
                [bar.low, bar.high],
                [i, i],
                color=LOW if bar.small else INK,
                lw=1.4,
                marker="|",
                ms=9,
                mew=1.4,
                gid=f"{prefix}-interval-{i}",
            )
        end = max([0.0, *(v for v in (bar.value, bar.high) if v is not None)])
        put_text(
            fig,
            min(end, high_edge),
            i,
            bar.note,
            note_offset,
            ha="left",
            size=SMALL_PT,
            color=LOW if bar.small else MUTED,
            gid=f"{prefix}-note-{i}",
        )


def _draw_axis_texts(
    fig: Figure,
    ax: Axes,
    labels: Sequence[str],
    bars: Sequence[_Bar],
    x_ticks: Sequence[float],
    x_tick_labels: Sequence[str],
    x_text: str,
    x_label_at: float,
    prefix: str,
) -> None:
    """The row labels left of the plot, the x tick labels and the x title under it."""
    left_of_plot = offset_copy(ax.get_yaxis_transform(), fig=fig, x=-TICK_PAD, units="points")
    for i, (label, bar) in enumerate(zip(labels, bars, strict=True)):
        put_text(
            fig,
            0,
            i,
            label,
            left_of_plot,
            ha="right",
            size=TICK_PT,
            color=LOW if bar.small else INK,
            gid=f"{prefix}-label-{i}",
        )
    under_plot = offset_copy(ax.get_xaxis_transform(), fig=fig, y=-TICK_PAD, units="points")
    for k, (x, text) in enumerate(zip(x_ticks, x_tick_labels, strict=True)):
        put_text(fig, x, 0, text, under_plot, va="top", size=TICK_PT, gid=f"{prefix}-x-label-{k}")
    x_label_anchor = offset_copy(ax.transAxes, fig=fig, y=-x_label_at, units="points")
    put_text(fig, 0.5, 0, x_text, x_label_anchor, va="top", gid=f"{prefix}-x-title")
