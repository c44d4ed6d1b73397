"""Dashboard charts: a trend of one estimate over periods, driver correlations and category
shares, each drawn from :class:`~analysis.results.Estimate` values with its interval and n.
Figures are built with ``matplotlib.figure.Figure`` (never pyplot, so no global state and no
GUI backend) and returned as bytes: a responsive SVG (``width="100%"`` and a ``viewBox``, text
as glyph paths so Chinese reads without the viewer's fonts, identical bytes for identical
input) or a 100 dpi PNG. Sizes are chosen for a ~330 CSS px wide phone screen."""

from __future__ import annotations

import functools
import io
import math
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal
from xml.sax.saxutils import escape

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.patches import Rectangle
from matplotlib.textpath import text_to_path
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Transform, offset_copy

from analysis.results import Estimate

ImageFormat = Literal["svg", "png"]

# Families tried in order, per glyph (matplotlib >= 3.6 falls back font by font). The CJK
# face comes first so Latin and Chinese share one design; DejaVu Sans (matplotlib's own)
# covers anything else.
_CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Noto Sans SC")
_FALLBACK_FAMILY = "DejaVu Sans"

# A 6.4 in figure is 460.8 pt wide and is shown ~330 px wide on a phone (x0.72), so text
# needs 14-17 pt to land at 10-12 px. The PNG at 100 dpi is 640 px: sharp on 2x screens.
_WIDTH_PT = 6.4 * 72
_TREND_PLOT_PT = 160.0
_DPI = 100
_FONT_PT = 16.0
_TICK_PT = 15.0
_SMALL_PT = 14.0
_TITLE_PT = 17.0
# Spacing in points: figure padding, title-to-plot gap, axis-to-tick-label pad,
# tick-label-to-axis-title pad, and the gap between the x axis and the n row.
_PAD = 7.0
_GAP = 6.0
_TICK_PAD = 3.5
_LABEL_PAD = 4.0
_N_ROW_PAD = 5.0

_INK = "#222222"
_MUTED = "#5f5f5f"
_GRID = "#e3e3e3"
_AXIS = "#8a8a8a"
_MAIN = "#1f5fa8"
_BAR = "#8fb3df"
_LOW = "#9b9b9b"
_LOW_BAR = "#dcdcdc"

# Keyword arguments of a hollow grey marker: a point below the minimum n.
_HOLLOW: dict[str, Any] = {
    "marker": "o",
    "ms": 7,
    "mfc": "white",
    "mec": _LOW,
    "mew": 1.6,
    "ls": "none",
}

_SVG_SIZE = re.compile(rb'<svg([^>]*?) width="[^"]*" height="[^"]*"')
_CJK_CHAR = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_TOKEN = re.compile(rf"[{_CJK_CHAR}]|[^\s{_CJK_CHAR}]+|\s+")


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One period of a trend: its label (``"2026-W45"``, ``"2026-11"``) and its estimate."""

    label: str
    estimate: Estimate


@dataclass(frozen=True, slots=True)
class _Bar:
    """One row of a horizontal bar chart, already in the axis' units."""

    label: str
    value: float | None
    low: float | None
    high: float | None
    note: str
    small: bool


@functools.cache
def _font_families() -> tuple[str, ...]:
    """The installed CJK families (in preference order) followed by DejaVu Sans.

    Asking matplotlib for a family that is not installed logs a findfont warning on every
    new size, so the list is filtered once against the font manager.
    """
    installed = {font.name for font in fontManager.ttflist}
    return (*(name for name in _CJK_FAMILIES if name in installed), _FALLBACK_FAMILY)


# rc_context swaps matplotlib's process-wide rcParams for the duration of a chart; two
# threads of one web worker doing that at once would restore each other's settings.
_RENDER_LOCK = threading.Lock()


@contextmanager
def _chart_style() -> Iterator[None]:
    """Per-call rcParams (the global ones are left alone), one chart at a time."""
    # Written inline so that mypy checks each key against matplotlib's list of rcParams.
    with (
        _RENDER_LOCK,
        matplotlib.rc_context(
            {
                "font.family": list(_font_families()),
                "font.size": _FONT_PT,
                "text.color": _INK,
                "figure.dpi": _DPI,
                "savefig.dpi": _DPI,
                "figure.facecolor": "white",
                "savefig.facecolor": "white",
                # Labels are user data: "$5 voucher" must not be read as mathtext.
                "text.parse_math": False,
                # Paths embed the glyphs: readable with no CJK font on the phone, and no font
                # subsetting that could vary between runs. The salt fixes the generated ids.
                "svg.fonttype": "path",
                "svg.hashsalt": "receipt-feedback-portal-charts",
            }
        ),
    ):
        yield


def _font(size: float, weight: str = "normal") -> FontProperties:
    return FontProperties(family=list(_font_families()), size=size, weight=weight)


def _text_width(text: str, prop: FontProperties) -> float:
    """Width of one line of text in points, measured with the same font fallback as drawing."""
    return _line_metrics(text, prop.get_size_in_points(), str(prop.get_weight()))[0]


@functools.lru_cache(maxsize=4096)
def _line_metrics(text: str, size: float, weight: str) -> tuple[float, float, float]:
    """Width, height and descent of one line, in points.

    Laying out text in the CJK face costs ~0.3 ms; the same period labels, counts and
    titles come back on every dashboard render, hence the cache.
    """
    if not text:
        return 0.0, 0.0, 0.0
    prop = _font(size, weight)
    width, height, descent = text_to_path.get_text_width_height_descent(text, prop, ismath=False)
    return float(width), float(height), float(descent)


def _block_height(text: str, prop: FontProperties) -> float:
    """Height in points of a possibly multi-line text block, laid out as matplotlib does.

    Every line is at least as tall as "lp"; baselines are 1.2 x the taller of "lp" and
    the line's own height above the baseline apart (``Text._get_layout``).
    """
    size, weight = prop.get_size_in_points(), str(prop.get_weight())
    _, lp_h, lp_d = _line_metrics("lp", size, weight)
    total = 0.0
    descent = 0.0
    for i, line in enumerate(text.split("\n")):
        _, h, d = _line_metrics(line, size, weight)
        h, descent = max(h, lp_h), max(d, lp_d)
        total += h - descent if i == 0 else max(lp_h - lp_d, h - descent) * 1.2
    return total + descent


def _wrap(text: str, width_pt: float, prop: FontProperties, max_lines: int = 2) -> str:
    """Break text into lines no wider than ``width_pt``, between words or CJK characters.

    Lines beyond ``max_lines`` are dropped and the last kept line ends with an ellipsis:
    one runaway label must not squeeze the plot to nothing on a phone.
    """
    text = text.replace("\n", " ")
    if _text_width(text, prop) <= width_pt:
        return text
    lines: list[str] = []
    current = ""
    for token in _TOKEN.findall(text):
        candidate = current + token
        if current.strip() and _text_width(candidate.rstrip(), prop) > width_pt:
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current = candidate
    lines.append(current.rstrip())
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and _text_width(last + "…", prop) > width_pt:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + "…"]
    return "\n".join(lines)


def _block_width(text: str, prop: FontProperties) -> float:
    return max(_text_width(line, prop) for line in text.split("\n"))


def _figure_with_axes(
    title: str, *, plot_h: float, left: float, right: float, above: float, below: float
) -> tuple[Figure, Axes]:
    """A figure sized around a plot of ``plot_h`` points, with fixed, measured margins.

    ``left``/``right`` run from the figure edge to the plot; ``above``/``below`` are the
    room between the plot and the title, and the plot and the bottom padding. Margins
    are computed from measured text rather than by a layout engine: constrained layout
    costs a second full draw per chart, and the dashboards render several per page.
    """
    prop = _font(_TITLE_PT, "bold")
    wrapped = _wrap(title, _WIDTH_PT - 2 * _PAD, prop)
    top = _PAD + _block_height(wrapped, prop) + _GAP + above
    height = top + plot_h + below + _PAD
    fig = Figure(figsize=(_WIDTH_PT / 72, height / 72), dpi=_DPI)
    fig.text(
        _PAD / _WIDTH_PT,
        1 - _PAD / height,
        wrapped,
        fontproperties=prop,
        color=_INK,
        ha="left",
        va="top",
        gid="chart-title",
    )
    ax = fig.add_axes(
        (
            left / _WIDTH_PT,
            (below + _PAD) / height,
            (_WIDTH_PT - left - right) / _WIDTH_PT,
            plot_h / height,
        )
    )
    return fig, ax


def _encode(fig: Figure, *, title: str, desc: str | None, image_format: ImageFormat) -> bytes:
    """Serialize the figure; SVGs are made responsive and get an accessible name."""
    buffer = io.BytesIO()
    if image_format == "png":
        fig.savefig(buffer, format="png", metadata={"Software": None})
        return buffer.getvalue()
    if image_format != "svg":
        raise ValueError(f"image_format must be 'svg' or 'png', not {image_format!r}")
    # Figure.savefig picks the SVG canvas for this call only; no pyplot, no global backend.
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    # Drop the fixed pt size so the chart follows its container; the viewBox keeps the
    # aspect ratio. Text is paths, so the title (and the empty note) go in <title>/<desc>.
    label = escape(title, {'"': "&quot;"}).encode()
    svg = _SVG_SIZE.sub(rb'<svg\1 width="100%" role="img" aria-label="' + label + b'"', svg, 1)
    head_end = svg.index(b">", svg.index(b"<svg")) + 1
    extra = b"<title>" + escape(title).encode() + b"</title>"
    if desc is not None:
        extra += b"<desc>" + escape(desc).encode() + b"</desc>"
    return svg[:head_end] + b"\n " + extra + svg[head_end:]


def _empty_figure(title: str, empty_text: str) -> Figure:
    text = _wrap(empty_text, _WIDTH_PT - 4 * _PAD, _font(_FONT_PT))
    fig, ax = _figure_with_axes(
        title,
        plot_h=_block_height(text, _font(_FONT_PT)) + 24,
        left=_PAD,
        right=_PAD,
        above=0,
        below=0,
    )
    ax.set_axis_off()
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        color=_MUTED,
        gid="empty-text",
    )
    return fig


def _thinning_step(
    texts: Sequence[str], prop: FontProperties, slot_pt: float, gap_em: float
) -> int:
    """Show every k-th label, the smallest k that keeps ``gap_em`` ems between labels."""
    widest = max((_text_width(text, prop) for text in texts), default=0.0)
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


def _put_text(
    fig: Figure,
    x: float,
    y: float,
    text: str,
    transform: Transform,
    *,
    gid: str,
    ha: str = "center",
    va: str = "center",
    size: float = _FONT_PT,
    color: str = _INK,
    rotation: float = 0.0,
) -> None:
    """One text at (x, y) in ``transform`` (an axes' data or axes coordinates, offset in
    points). Figure-level texts skip the clip path an axes would give each of them."""
    fig.text(
        x,
        y,
        text,
        transform=transform,
        ha=ha,
        va=va,
        fontsize=size,
        color=color,
        rotation=rotation,
        gid=gid,
    )


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

    Returns
    -------
    bytes
        The encoded image. SVG groups carry ids: ``trend-points-ok`` and
        ``trend-points-low`` (one ``<use>`` per marker), ``trend-intervals-low``,
        ``trend-band-<k>`` and ``trend-line-<k>`` per run of trusted periods,
        ``trend-n-<i>`` and ``trend-label-<i>`` per written count and period label, and
        ``trend-key`` when there are small periods.

    References
    ----------
    .. [1] Matplotlib gallery, "Embed in a web application server (Flask)": build a
       ``Figure`` directly rather than through pyplot.
    """
    y_low, y_high = y_range
    if not y_low < y_high:
        raise ValueError(f"y_range must be (low, high) with low < high, not {y_range!r}")
    with _chart_style():
        if not points:
            fig = _empty_figure(title, empty_text)
            return _encode(fig, title=title, desc=empty_text, image_format=image_format)
        fig = _trend_figure(points, title, y_label, (y_low, y_high), min_n, n_label, small_n_text)
        return _encode(fig, title=title, desc=None, image_format=image_format)


def _trend_figure(
    points: Sequence[SeriesPoint],
    title: str,
    y_label: str,
    y_range: tuple[float, float],
    min_n: int,
    n_label: str,
    small_n_text: str,
) -> Figure:
    count = len(points)
    values = [p.estimate.value for p in points]
    trusted = [v is not None and p.estimate.n >= min_n for p, v in zip(points, values, strict=True)]
    any_small = any(v is not None and not ok for v, ok in zip(values, trusted, strict=True))
    tick_prop, small_prop, label_prop = _font(_TICK_PT), _font(_SMALL_PT), _font(_FONT_PT)

    # Margins from the texts that will sit there.
    y_ticks = [
        float(v)
        for v in MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(*y_range)
        if y_range[0] - 1e-9 <= v <= y_range[1] + 1e-9
    ]
    y_tick_labels = [_number(v) for v in y_ticks]
    y_text = _wrap(y_label, _TREND_PLOT_PT - 8, label_prop)
    tick_column = max(
        [*(_text_width(t, tick_prop) for t in y_tick_labels), _text_width(n_label, small_prop)]
    )
    y_label_at = _TICK_PAD + tick_column + _LABEL_PAD
    left = _PAD + _block_height(y_text, label_prop) + y_label_at  # rotated: height is width
    labels = [p.label for p in points]
    counts = [str(p.estimate.n) for p in points]
    # The last label, centred on the last point, may stick out past the plot: widen the
    # right margin by that much. The first count must clear the n row label at the left:
    # start the x axis that much before the first point.
    slot = (_WIDTH_PT - left - _PAD) / count
    overhang = max(_text_width(labels[-1], tick_prop), _text_width(counts[-1], small_prop))
    right = _PAD + max(0.0, overhang / 2 - slot / 2)
    slot = (_WIDTH_PT - left - right) / count
    lead = max(0.0, _text_width(counts[0], small_prop) / 2 + 4 - slot / 2)
    slot = (_WIDTH_PT - left - right - lead) / count
    x_start = -0.5 - lead / slot

    # Period labels need a clear gap to read as separate words; bare counts less so.
    n_step = _thinning_step(counts, small_prop, slot, gap_em=0.5)
    label_step = _thinning_step(labels, tick_prop, slot, gap_em=1.0)
    # Every labelled period also shows its n, so the two rows line up.
    label_step = math.ceil(label_step / n_step) * n_step

    label_row_at = _N_ROW_PAD + _block_height("0", small_prop) + 5
    below = label_row_at + _block_height("0", tick_prop)
    key_h = _block_height("0", small_prop)
    # Room for the key of hollow points, or at least for the top y tick label's upper half.
    above = key_h + 4 if any_small else _block_height("0", tick_prop) / 2
    fig, ax = _figure_with_axes(
        title, plot_h=_TREND_PLOT_PT, left=left, right=right, above=above, below=below
    )
    ax.set_xlim(x_start, count - 0.5)
    ax.set_ylim(*y_range)
    # No Axis machinery at all (its Tick objects, two lines, a grid line and two labels
    # each, cost more than the rest of the chart): grid, baseline and axis texts are
    # drawn by hand at the measured offsets.
    ax.set_axis_off()
    ax.hlines(y_ticks, x_start, count - 0.5, color=_GRID, lw=0.8, zorder=0.5, gid="trend-grid")
    ax.hlines(y_range[0], x_start, count - 0.5, color=_AXIS, lw=0.8, zorder=0.6, clip_on=False)

    for k, run in enumerate(_runs(trusted)):
        lows = [_bound(points[i].estimate.low, values[i]) for i in run]
        highs = [_bound(points[i].estimate.high, values[i]) for i in run]
        if len(run) == 1:
            # A lone trusted period has no neighbour to make a band with: a wide
            # translucent stroke gives its interval the same look.
            ax.plot(
                run * 2,
                [lows[0], highs[0]],
                color=_MAIN,
                alpha=0.2,
                lw=9,
                solid_capstyle="butt",
                gid=f"trend-band-{k}",
            )
        else:
            ax.fill_between(run, lows, highs, color=_MAIN, alpha=0.18, lw=0, gid=f"trend-band-{k}")
            ys = [_bound(values[i], None) for i in run]
            ax.plot(run, ys, color=_MAIN, lw=2, gid=f"trend-line-{k}")

    # One artist per kind rather than per point: each SVG group holds one <use> per marker.
    ok = [i for i in range(count) if trusted[i]]
    small = [i for i in range(count) if values[i] is not None and not trusted[i]]
    ax.plot(
        ok,
        [_bound(values[i], None) for i in ok],
        marker="o",
        ms=7,
        color=_MAIN,
        ls="none",
        gid="trend-points-ok",
    )
    if small:
        ax.vlines(
            small,
            [_bound(points[i].estimate.low, values[i]) for i in small],
            [_bound(points[i].estimate.high, values[i]) for i in small],
            color=_LOW,
            lw=1,
            gid="trend-intervals-low",
        )
        ax.plot(small, [_bound(values[i], None) for i in small], gid="trend-points-low", **_HOLLOW)

    left_of_plot = offset_copy(ax.get_yaxis_transform(), fig=fig, x=-_TICK_PAD, units="points")
    for k, (y, text) in enumerate(zip(y_ticks, y_tick_labels, strict=True)):
        _put_text(
            fig, 0, y, text, left_of_plot, ha="right", size=_TICK_PT, gid=f"trend-y-label-{k}"
        )
    y_label_anchor = offset_copy(ax.transAxes, fig=fig, x=-y_label_at, units="points")
    _put_text(fig, 0, 0.5, y_text, y_label_anchor, ha="right", rotation=90, gid="trend-y-title")
    n_row = offset_copy(ax.get_xaxis_transform(), fig=fig, y=-_N_ROW_PAD, units="points")
    for i in _every_kth_from_last(count, n_step):
        _put_text(
            fig, i, 0, counts[i], n_row, va="top", size=_SMALL_PT, color=_MUTED, gid=f"trend-n-{i}"
        )
    n_row_label = offset_copy(ax.transAxes, fig=fig, x=-_TICK_PAD, y=-_N_ROW_PAD, units="points")
    _put_text(
        fig,
        0,
        0,
        n_label,
        n_row_label,
        ha="right",
        va="top",
        size=_SMALL_PT,
        color=_MUTED,
        gid="trend-n-label",
    )
    label_row = offset_copy(ax.get_xaxis_transform(), fig=fig, y=-label_row_at, units="points")
    for i in _every_kth_from_last(count, label_step):
        _put_text(fig, i, 0, labels[i], label_row, va="top", size=_TICK_PT, gid=f"trend-label-{i}")

    if any_small:
        # The key: a hollow marker and its text, just above the plot's top left corner.
        key_at = offset_copy(ax.transAxes, fig=fig, x=5, y=2 + key_h / 2, units="points")
        ax.plot([0], [1], transform=key_at, clip_on=False, gid="trend-key-marker", **_HOLLOW)
        key_text_at = offset_copy(ax.transAxes, fig=fig, x=16, y=2 + key_h / 2, units="points")
        _put_text(
            fig,
            0,
            1,
            small_n_text.replace("{min_n}", str(min_n)),
            key_text_at,
            ha="left",
            size=_SMALL_PT,
            color=_MUTED,
            gid="trend-key",
        )
    return fig


def _number(value: float) -> str:
    # Matplotlib's own formatter would also give "−50"; a fixed one keeps the measured
    # widths and the drawn labels the same strings.
    return f"{value:g}".replace("-", "\u2212")


def _bound(bound: float | None, value: float | None) -> float:
    # An interval end is missing only when the value is (n = 0); such points are skipped
    # before this, so falling back to the value keeps mypy honest without hiding data.
    if bound is not None:
        return bound
    return value if value is not None else math.nan


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
        value, low, high = (_within(v, -1.0, 1.0, f"rho of {name!r}", est) for v in _ends(est))
        note = f"{n_label}={est.n}"
        bars.append(_Bar(name, value, low, high, note, small=est.n < min_n))
    ends = [b for bar in bars for b in (bar.value, bar.low) if b is not None]
    signed = any(b < 0 for b in ends)
    ticks = [-1.0, -0.5, 0.0, 0.5, 1.0] if signed else [0.0, 0.25, 0.5, 0.75, 1.0]
    with _chart_style():
        if not bars:
            fig = _empty_figure(title, empty_text)
            return _encode(fig, title=title, desc=empty_text, image_format=image_format)
        fig = _bar_figure(bars, title, x_label, ticks, [_number(t) for t in ticks], "driver")
        return _encode(fig, title=title, desc=None, image_format=image_format)


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
        value, low, high = (_within(v, 0.0, 1.0, what, est) for v in _ends(est))
        note = "–" if value is None else _share_note(value, est.n)
        value, low, high = (None if v is None else v * 100 for v in (value, low, high))
        bars.append(_Bar(name, value, low, high, note, small=est.n < min_n))
    with _chart_style():
        if not bars:
            fig = _empty_figure(title, empty_text)
            return _encode(fig, title=title, desc=empty_text, image_format=image_format)
        ticks = _share_ticks(bars)
        fig = _bar_figure(bars, title, x_label, ticks, [f"{t:g}%" for t in ticks], "category")
        return _encode(fig, title=title, desc=None, image_format=image_format)


def _ends(est: Estimate) -> tuple[float | None, float | None, float | None]:
    return est.value, est.low, est.high


def _within(value: float | None, low: float, high: float, what: str, est: Estimate) -> float | None:
    """``value`` clamped to [low, high], allowing for rounding; anything further out is a
    caller's unit mistake (percent for a proportion) and raises ValueError."""
    if value is None:
        return None
    if not low - 1e-9 <= value <= high + 1e-9:
        raise ValueError(f"{what} must lie on {low:g}..{high:g}, got {est!r}")
    return min(max(value, low), high)


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
    tick_prop, small_prop, label_prop = _font(_TICK_PT), _font(_SMALL_PT), _font(_FONT_PT)
    labels = [_wrap(bar.label, 0.36 * _WIDTH_PT, tick_prop) for bar in bars]
    low_edge, high_edge = x_ticks[0], x_ticks[-1]
    left = _PAD + max(_block_width(label, tick_prop) for label in labels) + _TICK_PAD
    # Each note starts 5 pt past its bar's end (the fraction f of the plot width) and
    # must end inside the figure: f * plot + 5 + width <= plot + right - pad. Solve for
    # right with plot = width_pt - left - right.
    room = _WIDTH_PT - left
    right = _PAD + _text_width(x_tick_labels[-1], tick_prop) / 2
    for bar in bars:
        end = max([0.0, *(v for v in (bar.value, bar.high) if v is not None)])
        f = (min(end, high_edge) - low_edge) / (high_edge - low_edge)
        need = 5 + _text_width(bar.note, small_prop) + _PAD
        if f > 0:
            right = max(right, room - (room - need) / f)
    x_text = _wrap(x_label, _WIDTH_PT - 2 * _PAD, label_prop)
    x_label_at = _TICK_PAD + _block_height("0", tick_prop) + _LABEL_PAD
    below = x_label_at + _block_height(x_text, label_prop)
    row_h = max(30.0, max(_block_height(label, tick_prop) for label in labels) + 12)
    fig, ax = _figure_with_axes(
        title, plot_h=row_h * len(bars), left=left, right=right, above=0, below=below
    )
    ax.set_ylim(len(bars) - 0.5, -0.5)  # first row on top, as given
    ax.set_xlim(low_edge, high_edge)
    ax.set_axis_off()  # as in the trend chart: lines and axis texts by hand
    ax.vlines(x_ticks, -0.5, len(bars) - 0.5, color=_GRID, lw=0.8, zorder=0.5, gid=f"{prefix}-grid")
    # The baseline, and the zero line (the left edge when nothing is negative).
    ax.hlines(len(bars) - 0.5, low_edge, high_edge, color=_AXIS, lw=0.8, clip_on=False)
    ax.vlines(0, -0.5, len(bars) - 0.5, color=_AXIS, lw=0.8, zorder=2.5, clip_on=False)

    note_offset = offset_copy(ax.transData, fig=fig, x=5, units="points")
    for i, bar in enumerate(bars):
        status = "low" if bar.small else "ok"
        if bar.value is not None:
            ax.barh(
                i,
                bar.value,
                height=0.62,
                color=_LOW_BAR if bar.small else _BAR,
                gid=f"{prefix}-bar-{status}-{i}",
            )
        if bar.low is not None and bar.high is not None:
            ax.plot(
                [bar.low, bar.high],
                [i, i],
                color=_LOW if bar.small else _INK,
                lw=1.4,
                marker="|",
                ms=9,
                mew=1.4,
                gid=f"{prefix}-interval-{i}",
            )
        end = max([0.0, *(v for v in (bar.value, bar.high) if v is not None)])
        _put_text(
            fig,
            min(end, high_edge),
            i,
            bar.note,
            note_offset,
            ha="left",
            size=_SMALL_PT,
            color=_LOW if bar.small else _MUTED,
            gid=f"{prefix}-note-{i}",
        )

    left_of_plot = offset_copy(ax.get_yaxis_transform(), fig=fig, x=-_TICK_PAD, units="points")
    for i, (label, bar) in enumerate(zip(labels, bars, strict=True)):
        _put_text(
            fig,
            0,
            i,
            label,
            left_of_plot,
            ha="right",
            size=_TICK_PT,
            color=_LOW if bar.small else _INK,
            gid=f"{prefix}-label-{i}",
        )
    under_plot = offset_copy(ax.get_xaxis_transform(), fig=fig, y=-_TICK_PAD, units="points")
    for k, (x, text) in enumerate(zip(x_ticks, x_tick_labels, strict=True)):
        _put_text(fig, x, 0, text, under_plot, va="top", size=_TICK_PT, gid=f"{prefix}-x-label-{k}")
    x_label_anchor = offset_copy(ax.transAxes, fig=fig, y=-x_label_at, units="points")
    _put_text(fig, 0.5, 0, x_text, x_label_anchor, va="top", gid=f"{prefix}-x-title")
    return fig


# Heat map: one row per store, one column per touchpoint. Rows are tall enough for the
# value and its n on two lines, at 40 pt about 29 px on a phone: a comfortable tap target.
_HEAT_ROW_PT = 40.0
_HEAT_MIN_TEXT_PT = 10.0
_HEAT_N_PT = 12.0
_HEAT_NONE = "#f3f3f3"
# Red (low) through pale yellow to blue (high): a ColorBrewer scheme that stays readable
# to the common colour-vision deficiencies, unlike red-to-green.
_HEAT_CMAP = "RdYlBu"
_WHITE = "#ffffff"


def heatmap_chart(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    counts: Sequence[Sequence[int]],
    *,
    title: str,
    desc: str | None = None,
    image_format: ImageFormat = "svg",
    empty_text: str = "No visits in this period",
    min_n: int = 1,
    n_label: str = "n",
    small_n_text: str = "grey: fewer than {min_n} visits",
) -> bytes:
    """Draw mean scores (0-100) as a grid: rows (stores) by columns (touchpoints).

    Each cell is coloured on a fixed 0-100 scale (red low, yellow middle, blue high, so
    that charts of different months and regions compare at a glance) and carries its
    value with one decimal over ``<n_label>=<count>``. A cell without a value is pale grey
    with "–"; a cell whose count is below ``min_n`` is grey with its value in grey, and a
    key under the grid says so. Rows keep the given order, top to bottom. Column titles
    sit above the grid, wrapped onto two lines, or turned upright when a word does not
    fit its column at phone width.

    Parameters
    ----------
    rows, columns : sequence of str
        Already translated row (store) and column (touchpoint) names.
    values : sequence of sequence of float or None
        ``values[r][c]``: the mean score of row r in column c on 0..100, ``None`` when
        there is none.
    counts : sequence of sequence of int
        ``counts[r][c]``: the number of visits behind that mean.
    title : str
        Already translated; also the SVG's accessible name.
    desc : str, optional
        A longer text description for the SVG ``<desc>`` (screen readers).
    image_format : {'svg', 'png'}
        SVG (responsive, text as paths) or a 640 px wide PNG.
    empty_text : str
        Shown instead of a grid when there are no rows or no columns.
    min_n : int
        Below this many visits a cell is greyed; default 1 (only empty cells are grey).
    n_label : str
        Prefix of each cell's count.
    small_n_text : str
        The key for greyed cells; ``{min_n}`` is replaced by the threshold.

    Returns
    -------
    bytes
        The encoded image. SVG ids: ``heatmap-cell-<r>-<c>``, ``heatmap-value-<r>-<c>``
        and ``heatmap-n-<r>-<c>`` per cell (no ``heatmap-n`` for an empty cell),
        ``heatmap-row-<r>``, ``heatmap-column-<c>``, and ``heatmap-key`` when some cell
        is greyed.

    Raises
    ------
    ValueError
        If the shapes of ``values`` or ``counts`` differ from rows × columns, a value is
        outside 0..100 (more than rounding), or a count is negative or not an integer.
    """
    if len(values) != len(rows) or len(counts) != len(rows):
        raise ValueError(
            f"values and counts need one row per row name ({len(rows)}), "
            f"got {len(values)} and {len(counts)}"
        )
    cells: list[list[tuple[float | None, int]]] = []
    for r, (row_values, row_counts) in enumerate(zip(values, counts, strict=True)):
        if len(row_values) != len(columns) or len(row_counts) != len(columns):
            raise ValueError(f"row {r} needs {len(columns)} values and counts")
        row: list[tuple[float | None, int]] = []
        for value, count in zip(row_values, row_counts, strict=True):
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(f"counts must be whole numbers >= 0, got {count!r} in row {r}")
            est = Estimate(value, None, None, count)
            row.append((_within(value, 0.0, 100.0, f"score in row {r}", est), count))
        cells.append(row)
    with _chart_style():
        if not rows or not columns:
            fig = _empty_figure(title, empty_text)
            return _encode(fig, title=title, desc=desc or empty_text, image_format=image_format)
        key = small_n_text.replace("{min_n}", str(min_n))
        fig = _heatmap_figure(rows, columns, cells, title, min_n, n_label, key)
        return _encode(fig, title=title, desc=desc, image_format=image_format)


def _contrasting_ink(rgb: tuple[float, float, float]) -> str:
    """White or the ink colour, whichever contrasts more with ``rgb`` (WCAG 2 luminance).

    White wins when (1.05)/(L + 0.05) > (L + 0.05)/(L_ink + 0.05), i.e. L < ~0.21.
    """

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2])
    ink = 0.0160  # relative luminance of #222222
    return _WHITE if 1.05 / (luminance + 0.05) > (luminance + 0.05) / (ink + 0.05) else _INK


def _balanced_wrap(text: str, width_pt: float, prop: FontProperties) -> str:
    """Wrap onto at most two lines of similar length ("门店\n环境", not "门店环\n境")."""
    wrapped = _wrap(text, width_pt, prop)
    if "\n" not in wrapped:
        return wrapped
    half = _wrap(text, _text_width(text, prop) / 2 + 1, prop, max_lines=3)
    return half if half.count("\n") == 1 and _block_width(half, prop) <= width_pt else wrapped


def _heatmap_figure(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[tuple[float | None, int]]],
    title: str,
    min_n: int,
    n_label: str,
    key_text: str,
) -> Figure:
    tick_prop, head_prop = _font(_TICK_PT), _font(_SMALL_PT)
    row_labels = [_wrap(row, 0.34 * _WIDTH_PT, tick_prop) for row in rows]
    left = _PAD + max(_block_width(label, tick_prop) for label in row_labels) + _TICK_PAD
    right = _PAD
    slot = (_WIDTH_PT - left - right) / len(columns)

    # The widest cell texts set one size for every cell: shrink to fit narrow columns,
    # but never below a size a phone can show.
    n_texts = [f"{n_label}={count}" for row in cells for _, count in row]
    value_pt = _SMALL_PT
    widest_value = _text_width("100.0", _font(value_pt))
    if widest_value > slot - 6:
        value_pt = max(_HEAT_MIN_TEXT_PT, value_pt * (slot - 6) / widest_value)
    n_pt = min(value_pt, _HEAT_N_PT)
    widest_n = max(_text_width(text, _font(n_pt)) for text in n_texts)
    if widest_n > slot - 6:
        n_pt = max(_HEAT_MIN_TEXT_PT - 1, n_pt * (slot - 6) / widest_n)

    headers = [_balanced_wrap(column, slot - 4, head_prop) for column in columns]
    upright = any(_block_width(header, head_prop) > slot - 4 for header in headers)
    if upright:
        headers = [_wrap(column, 150.0, head_prop, max_lines=1) for column in columns]
        header_h = max(_text_width(header, head_prop) for header in headers)
    else:
        header_h = max(_block_height(header, head_prop) for header in headers)

    value_h = _block_height("0", _font(value_pt))
    n_h = _block_height("0", _font(n_pt))
    row_h = max(
        _HEAT_ROW_PT,
        value_h + n_h + 14,
        max(_block_height(label, tick_prop) for label in row_labels) + 10,
    )
    any_small = any(value is not None and count < min_n for row in cells for value, count in row)
    key_h = _block_height(key_text, _font(_SMALL_PT)) + _N_ROW_PAD if any_small else 0.0
    fig, ax = _figure_with_axes(
        title,
        plot_h=row_h * len(rows),
        left=left,
        right=right,
        above=header_h + _TICK_PAD,
        below=key_h,
    )
    ax.set_xlim(-0.5, len(columns) - 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first row on top, as given
    ax.set_axis_off()

    cmap = matplotlib.colormaps[_HEAT_CMAP]
    value_at = offset_copy(ax.transData, fig=fig, y=1.0, units="points")
    n_at = offset_copy(ax.transData, fig=fig, y=-2.0, units="points")
    for r, row in enumerate(cells):
        for c, (value, count) in enumerate(row):
            face: str | tuple[float, float, float, float]
            if value is None:
                face, ink = _HEAT_NONE, _LOW
            elif count < min_n:
                face, ink = _LOW_BAR, _MUTED
            else:
                rgba = cmap(value / 100.0)
                face, ink = rgba, _contrasting_ink((rgba[0], rgba[1], rgba[2]))
            ax.add_patch(
                Rectangle(
                    (c - 0.5, r - 0.5),
                    1.0,
                    1.0,
                    facecolor=face,
                    edgecolor=_WHITE,
                    lw=2,
                    gid=f"heatmap-cell-{r}-{c}",
                )
            )
            if value is None:
                _put_text(
                    fig,
                    c,
                    r,
                    "–",
                    ax.transData,
                    size=value_pt,
                    color=ink,
                    gid=f"heatmap-value-{r}-{c}",
                )
                continue
            _put_text(
                fig,
                c,
                r,
                f"{value:.1f}",
                value_at,
                va="bottom",
                size=value_pt,
                color=ink,
                gid=f"heatmap-value-{r}-{c}",
            )
            _put_text(
                fig,
                c,
                r,
                f"{n_label}={count}",
                n_at,
                va="top",
                size=n_pt,
                color=ink,
                gid=f"heatmap-n-{r}-{c}",
            )

    left_of_plot = offset_copy(ax.get_yaxis_transform(), fig=fig, x=-_TICK_PAD, units="points")
    for r, label in enumerate(row_labels):
        _put_text(fig, 0, r, label, left_of_plot, ha="right", size=_TICK_PT, gid=f"heatmap-row-{r}")
    above_plot = offset_copy(ax.transData, fig=fig, y=_TICK_PAD, units="points")
    for c, header in enumerate(headers):
        _put_text(
            fig,
            c,
            -0.5,
            header,
            above_plot,
            va="bottom",
            size=_SMALL_PT,
            rotation=90.0 if upright else 0.0,
            gid=f"heatmap-column-{c}",
        )
    if any_small:
        key_at = offset_copy(ax.transAxes, fig=fig, y=-_N_ROW_PAD, units="points")
        _put_text(
            fig,
            0,
            0,
            key_text,
            key_at,
            ha="left",
            va="top",
            size=_SMALL_PT,
            color=_MUTED,
            gid="heatmap-key",
        )
    return fig
