"""The mystery-shop heat map: mean scores (0-100) by store (rows) and touchpoint (columns)
on a fixed colour scale, each cell with its value and n, thin cells greyed.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.transforms import offset_copy

from analysis.charts.common import (
    INK,
    LOW,
    LOW_BAR,
    MUTED,
    N_ROW_PAD,
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
    put_text,
    render_chart,
    text_width,
    within,
    wrap_text,
)
from analysis.results import Estimate

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
            row.append((within(value, 0.0, 100.0, f"score in row {r}", est), count))
        cells.append(row)
    key = small_n_text.replace("{min_n}", str(min_n))
    draw = (
        functools.partial(_heatmap_figure, rows, columns, cells, title, min_n, n_label, key)
        if rows and columns
        else None
    )
    return render_chart(
        draw, title=title, desc=desc, empty_text=empty_text, image_format=image_format
    )


def _contrasting_ink(rgb: tuple[float, float, float]) -> str:
    """White or the ink colour, whichever contrasts more with ``rgb`` (WCAG 2 luminance).

    White wins when (1.05)/(L + 0.05) > (L + 0.05)/(L_ink + 0.05), i.e. L < ~0.21.
    """

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2])
    ink = 0.0160  # relative luminance of #222222
    return _WHITE if 1.05 / (luminance + 0.05) > (luminance + 0.05) / (ink + 0.05) else INK


def _balanced_wrap(text: str, width_pt: float, prop: FontProperties) -> str:
    """Wrap onto at most two lines of similar length ("门店\n环境", not "门店环\n境")."""
    wrapped = wrap_text(text, width_pt, prop)
    if "\n" not in wrapped:
        return wrapped
    half = wrap_text(text, text_width(text, prop) / 2 + 1, prop, max_lines=3)
    return half if half.count("\n") == 1 and block_width(half, prop) <= width_pt else wrapped


def _heatmap_figure(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[tuple[float | None, int]]],
    title: str,
    min_n: int,
    n_label: str,
    key_text: str,
) -> Figure:
    tick_prop, head_prop = chart_font(TICK_PT), chart_font(SMALL_PT)
    row_labels = [wrap_text(row, 0.34 * WIDTH_PT, tick_prop) for row in rows]
    left = PAD + max(block_width(label, tick_prop) for label in row_labels) + TICK_PAD
    right = PAD
    slot = (WIDTH_PT - left - right) / len(columns)

    value_pt, n_pt = _cell_text_sizes(cells, n_label, slot)

    headers, upright, header_h = _column_headers(columns, slot, head_prop)

    value_h = block_height("0", chart_font(value_pt))
    n_h = block_height("0", chart_font(n_pt))
    row_h = max(
        _HEAT_ROW_PT,
        value_h + n_h + 14,
        max(block_height(label, tick_prop) for label in row_labels) + 10,
    )
    any_small = any(value is not None and count < min_n for row in cells for value, count in row)
    key_h = block_height(key_text, chart_font(SMALL_PT)) + N_ROW_PAD if any_small else 0.0
    fig, ax = figure_with_axes(
        title,
        plot_h=row_h * len(rows),
        left=left,
        right=right,
        above=header_h + TICK_PAD,
        below=key_h,
    )
    ax.set_xlim(-0.5, len(columns) - 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first row on top, as given
    ax.set_axis_off()

    _draw_cells(fig, ax, cells, min_n, n_label, value_pt, n_pt)
    _draw_labels(fig, ax, row_labels, headers, upright, key_text if any_small else None)
    return fig


def _cell_text_sizes(
    cells: Sequence[Sequence[tuple[float | None, int]]], n_label: str, slot: float
) -> tuple[float, float]:
    """The point sizes of the cells' values and counts for columns ``slot`` points wide."""
    # The widest cell texts set one size for every cell: shrink to fit narrow columns,
    # but never below a size a phone can show.
    n_texts = [f"{n_label}={count}" for row in cells for _, count in row]
    value_pt = SMALL_PT
    widest_value = text_width("100.0", chart_font(value_pt))
    if widest_value > slot - 6:
        value_pt = max(_HEAT_MIN_TEXT_PT, value_pt * (slot - 6) / widest_value)
    n_pt = min(value_pt, _HEAT_N_PT)
    widest_n = max(text_width(text, chart_font(n_pt)) for text in n_texts)
    if widest_n > slot - 6:
        n_pt = max(_HEAT_MIN_TEXT_PT - 1, n_pt * (slot - 6) / widest_n)
    return value_pt, n_pt


def _column_headers(
    columns: Sequence[str], slot: float, head_prop: FontProperties
) -> tuple[list[str], bool, float]:
    """The column titles as drawn, whether they stand upright, and the room they take."""
    headers = [_balanced_wrap(column, slot - 4, head_prop) for column in columns]
    upright = any(block_width(header, head_prop) > slot - 4 for header in headers)
    if upright:
        headers = [wrap_text(column, 150.0, head_prop, max_lines=1) for column in columns]
        header_h = max(text_width(header, head_prop) for header in headers)
    else:
        header_h = max(block_height(header, head_prop) for header in headers)
    return headers, upright, header_h


def _draw_cells(
    fig: Figure,
    ax: Axes,
    cells: Sequence[Sequence[tuple[float | None, int]]],
    min_n: int,
    n_label: str,
    value_pt: float,
    n_pt: float,
) -> None:
    """Each cell's colour, its value and its count."""
    cmap = matplotlib.colormaps[_HEAT_CMAP]
    value_at = offset_copy(ax.transData, fig=fig, y=1.0, units="points")
    n_at = offset_copy(ax.transData, fig=fig, y=-2.0, units="points")
    for r, row in enumerate(cells):
        for c, (value, count) in enumerate(row):
            face: str | tuple[float, float, float, float]
            if value is None:
                face, ink = _HEAT_NONE, LOW
            elif count < min_n:
                face, ink = LOW_BAR, MUTED
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
                put_text(
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
            put_text(
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
            put_text(
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


def _draw_labels(
    fig: Figure,
    ax: Axes,
    row_labels: Sequence[str],
    headers: Sequence[str],
    upright: bool,
    key_text: str | None,
) -> None:
    """The row names, the column titles and, when some cell is greyed, the key."""
    left_of_plot = offset_copy(ax.get_yaxis_transform(), fig=fig, x=-TICK_PAD, units="points")
    for r, label in enumerate(row_labels):
        put_text(fig, 0, r, label, left_of_plot, ha="right", size=TICK_PT, gid=f"heatmap-row-{r}")
    above_plot = offset_copy(ax.transData, fig=fig, y=TICK_PAD, units="points")
    for c, header in enumerate(headers):
        put_text(
            fig,
            c,
            -0.5,
            header,
            above_plot,
            va="bottom",
            size=SMALL_PT,
            rotation=90.0 if upright else 0.0,
            gid=f"heatmap-column-{c}",
        )
    if key_text is not None:
        key_at = offset_copy(ax.transAxes, fig=fig, y=-N_ROW_PAD, units="points")
        put_text(
            fig,
            0,
            0,
            key_text,
            key_at,
            ha="left",
            va="top",
            size=SMALL_PT,
            color=MUTED,
            gid="heatmap-key",
        )
