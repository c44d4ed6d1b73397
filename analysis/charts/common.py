"""What every chart shares: the per-call matplotlib style (CJK-capable fonts, fixed SVG
ids, no mathtext) behind one lock, the sizes and colours, text measured as it will be drawn
and wrapped to fit a phone screen, the figure sized around a plot with measured margins, a
figure-level text helper, the "nothing to show" figure and the SVG/PNG encoding.
"""

from __future__ import annotations

import functools
import io
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal
from xml.sax.saxutils import escape

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.textpath import text_to_path
from matplotlib.transforms import Transform

from analysis.results import Estimate

ImageFormat = Literal["svg", "png"]

# Families tried in order, per glyph (matplotlib >= 3.6 falls back font by font). The CJK
# face comes first so Latin and Chinese share one design; DejaVu Sans (matplotlib's own)
# covers anything else.
_CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Noto Sans SC")
_FALLBACK_FAMILY = "DejaVu Sans"

# A 6.4 in figure is 460.8 pt wide and is shown ~330 px wide on a phone (x0.72), so text
# needs 14-17 pt to land at 10-12 px. The PNG at 100 dpi is 640 px: sharp on 2x screens.
WIDTH_PT = 6.4 * 72
_DPI = 100
FONT_PT = 16.0
TICK_PT = 15.0
SMALL_PT = 14.0
_TITLE_PT = 17.0
# Spacing in points: figure padding, title-to-plot gap, axis-to-tick-label pad,
# tick-label-to-axis-title pad, and the gap between the x axis and the n row.
PAD = 7.0
_GAP = 6.0
TICK_PAD = 3.5
LABEL_PAD = 4.0
N_ROW_PAD = 5.0

INK = "#222222"
MUTED = "#5f5f5f"
GRID = "#e3e3e3"
AXIS = "#8a8a8a"
MAIN = "#1f5fa8"
BAR = "#8fb3df"
LOW = "#9b9b9b"
LOW_BAR = "#dcdcdc"

_SVG_SIZE = re.compile(rb'<svg([^>]*?) width="[^"]*" height="[^"]*"')
_CJK_CHAR = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
# Line-breaking rules of Chinese typesetting: an opening bracket stays with what follows it
# and closing punctuation with what precedes it, so "得分（0–100）" never breaks as
# "得分（" / "0–100）" nor starts a line with "，".
_OPENING = "（(［[【「『《〈“‘"
_CLOSING = "）)］]】」』》〉”’，、。：；！？,.:;!?%％"
_TOKEN = re.compile(
    rf"[{re.escape(_OPENING)}]*(?:[{_CJK_CHAR}]|[^\s{_CJK_CHAR}]+)[{re.escape(_CLOSING)}]*|\s+"
)


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
                "font.size": FONT_PT,
                "text.color": INK,
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


def chart_font(size: float, weight: str = "normal") -> FontProperties:
    return FontProperties(family=list(_font_families()), size=size, weight=weight)


def text_width(text: str, prop: FontProperties) -> float:
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
    prop = chart_font(size, weight)
    width, height, descent = text_to_path.get_text_width_height_descent(text, prop, ismath=False)
    return float(width), float(height), float(descent)


def block_height(text: str, prop: FontProperties) -> float:
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


def wrap_text(text: str, width_pt: float, prop: FontProperties, max_lines: int = 2) -> str:
    """Break text into lines no wider than ``width_pt``, between words or CJK characters.

    Lines beyond ``max_lines`` are dropped and the last kept line ends with an ellipsis:
    one runaway label must not squeeze the plot to nothing on a phone.
    """
    text = text.replace("\n", " ")
    if text_width(text, prop) <= width_pt:
        return text
    lines: list[str] = []
    current = ""
    for token in _TOKEN.findall(text):
        candidate = current + token
        if current.strip() and text_width(candidate.rstrip(), prop) > width_pt:
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current = candidate
    lines.append(current.rstrip())
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + "…", prop) > width_pt:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + "…"]
    return "\n".join(lines)


def block_width(text: str, prop: FontProperties) -> float:
    return max(text_width(line, prop) for line in text.split("\n"))


def figure_with_axes(
    title: str, *, plot_h: float, left: float, right: float, above: float, below: float
) -> tuple[Figure, Axes]:
    """A figure sized around a plot of ``plot_h`` points, with fixed, measured margins.

    ``left``/``right`` run from the figure edge to the plot; ``above``/``below`` are the
    room between the plot and the title, and the plot and the bottom padding. Margins
    are computed from measured text rather than by a layout engine: constrained layout
    costs a second full draw per chart, and the dashboards render several per page.
    """
    prop = chart_font(_TITLE_PT, "bold")
    wrapped = wrap_text(title, WIDTH_PT - 2 * PAD, prop)
    top = PAD + block_height(wrapped, prop) + _GAP + above
    height = top + plot_h + below + PAD
    fig = Figure(figsize=(WIDTH_PT / 72, height / 72), dpi=_DPI)
    fig.text(
        PAD / WIDTH_PT,
        1 - PAD / height,
        wrapped,
        fontproperties=prop,
        color=INK,
        ha="left",
        va="top",
        gid="chart-title",
    )
    ax = fig.add_axes(
        (
            left / WIDTH_PT,
            (below + PAD) / height,
            (WIDTH_PT - left - right) / WIDTH_PT,
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
    text = wrap_text(empty_text, WIDTH_PT - 4 * PAD, chart_font(FONT_PT))
    fig, ax = figure_with_axes(
        title,
        plot_h=block_height(text, chart_font(FONT_PT)) + 24,
        left=PAD,
        right=PAD,
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
        color=MUTED,
        gid="empty-text",
    )
    return fig


def put_text(
    fig: Figure,
    x: float,
    y: float,
    text: str,
    transform: Transform,
    *,
    gid: str,
    ha: str = "center",
    va: str = "center",
    size: float = FONT_PT,
    color: str = INK,
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


def format_number(value: float) -> str:
    # Matplotlib's own formatter would also give "−50"; a fixed one keeps the measured
    # widths and the drawn labels the same strings.
    return f"{value:g}".replace("-", "\u2212")


def within(value: float | None, low: float, high: float, what: str, est: Estimate) -> float | None:
    """``value`` clamped to [low, high], allowing for rounding; anything further out is a
    caller's unit mistake (percent for a proportion) and raises ValueError."""
    if value is None:
        return None
    if not low - 1e-9 <= value <= high + 1e-9:
        raise ValueError(f"{what} must lie on {low:g}..{high:g}, got {est!r}")
    return min(max(value, low), high)


def render_chart(
    draw: Callable[[], Figure] | None,
    *,
    title: str,
    desc: str | None,
    empty_text: str,
    image_format: ImageFormat,
) -> bytes:
    """Draw and encode one chart under the chart style; ``draw`` is ``None`` when there is
    nothing to plot, and the figure then says ``empty_text`` (also the SVG's description
    unless ``desc`` is given)."""
    with _chart_style():
        if draw is None:
            fig = _empty_figure(title, empty_text)
            return _encode(fig, title=title, desc=desc or empty_text, image_format=image_format)
        return _encode(draw(), title=title, desc=desc, image_format=image_format)
