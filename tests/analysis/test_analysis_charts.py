"""Tests for analysis.charts: SVG structure (ids we assign with gid), byte-identical
output, Chinese labels without missing-glyph warnings, the empty state, PNG output and
rendering speed. PNGs of each chart kind are written to pytest's tmp_path for eyeballing."""

from __future__ import annotations

import logging
import re
import warnings
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import matplotlib
import pytest
from matplotlib.font_manager import fontManager

from analysis.charts import SeriesPoint, category_chart, driver_chart, trend_chart
from analysis.charts.common import TICK_PT, chart_font, text_width, wrap_text
from analysis.results import Estimate

SVG_NS = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHINESE_RATING = "收银员的热情与帮助"

needs_cjk_font = pytest.mark.skipif(
    "Noto Sans CJK SC" not in {font.name for font in fontManager.ttflist},
    reason="Noto Sans CJK SC is not installed (Debian package fonts-noto-cjk)",
)


def weekly_points(ns: list[int]) -> list[SeriesPoint]:
    """NPS-like points whose interval narrows with n, one per week from 2026-W40."""
    points = []
    for i, n in enumerate(ns):
        value = 20.0 + (i * 7) % 30
        half = min(100.0, 180 / n**0.5)
        estimate = Estimate(value, max(-100.0, value - half), min(100.0, value + half), n)
        points.append(SeriesPoint(f"2026-W{40 + i}", estimate))
    return points


TWELVE_WEEKS = weekly_points([120, 95, 14, 110, 130, 22, 140, 150, 90, 101, 88, 130])
DRIVERS = [
    (CHINESE_RATING, Estimate(0.62, 0.55, 0.68, 412)),
    ("Queue length at the checkout counters", Estimate(0.41, 0.32, 0.50, 398)),
    ("商品陈列", Estimate(0.12, -0.05, 0.28, 25)),
    ("Cleanliness", Estimate(-0.10, -0.20, 0.01, 300)),
    ("Price", Estimate(None, None, None, 0)),
]
SHARES = [
    ("排队太久", Estimate(0.31, 0.26, 0.36, 250)),
    ("Rude staff", Estimate(0.12, 0.085, 0.16, 250)),
    ("Out of stock", Estimate(0.04, 0.02, 0.07, 250)),
    ("其他", Estimate(0.5, 0.2, 0.8, 10)),
]


def render_trend(points=TWELVE_WEEKS, **kwargs):
    options = {"title": "Weekly NPS", "y_label": "NPS", "y_range": (-100.0, 100.0)}
    return trend_chart(points, **(options | kwargs))


def render_drivers(drivers=DRIVERS, **kwargs):
    return driver_chart(drivers, **({"title": "Drivers", "x_label": "Spearman ρ"} | kwargs))


def render_categories(shares=SHARES, **kwargs):
    return category_chart(shares, **({"title": "Complaints", "x_label": "Share"} | kwargs))


RENDERERS = [render_trend, render_drivers, render_categories]


def ids(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)
    return [el.attrib["id"] for el in root.iter() if "id" in el.attrib]


def ids_starting(svg: bytes, prefix: str) -> list[str]:
    return [i for i in ids(svg) if i.startswith(prefix)]


def marker_count(svg: bytes, gid: str) -> int:
    """Markers drawn by the artist with this gid: SVG writes one <use> per marker."""
    group = ET.fromstring(svg).find(f".//*[@id='{gid}']")
    return 0 if group is None else len(group.findall(f".//{SVG_NS}use"))


@pytest.mark.parametrize("render", RENDERERS)
@pytest.mark.parametrize("empty", [False, True])
def test_output_is_a_responsive_svg_with_a_viewbox_and_a_title(render, empty):
    svg = render([]) if empty else render()
    root = ET.fromstring(svg)

    assert root.tag == f"{SVG_NS}svg"
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.attrib["viewBox"])
    assert root.attrib["width"] == "100%"
    assert "height" not in root.attrib
    assert root.attrib["role"] == "img"
    assert root.find(f"{SVG_NS}title") is not None
    # Text is drawn as glyph paths: readable on a phone with no CJK font.
    assert root.find(f".//{SVG_NS}text") is None


@pytest.mark.parametrize("render", RENDERERS)
def test_same_input_gives_identical_bytes(render):
    first = render()
    render_trend(weekly_points([50] * 5))  # something else in between
    assert render() == first


def test_twelve_points_give_twelve_markers_and_a_band():
    svg = render_trend(weekly_points([100] * 12))

    assert marker_count(svg, "trend-points-ok") == 12
    assert marker_count(svg, "trend-points-low") == 0
    assert ids_starting(svg, "trend-band-") == ["trend-band-0"]
    assert ids_starting(svg, "trend-line-") == ["trend-line-0"]


def test_points_below_min_n_are_hollow_and_outside_the_band():
    svg = render_trend(min_n=30)  # n = 14 and 22 at periods 2 and 5

    assert marker_count(svg, "trend-points-ok") == 10
    assert marker_count(svg, "trend-points-low") == 2
    assert "trend-intervals-low" in ids(svg)
    assert "trend-key" in ids(svg)  # the legend for hollow points
    # The small periods split the trusted ones into three runs: 0-1, 3-4 and 6-11.
    assert ids_starting(svg, "trend-band-") == ["trend-band-0", "trend-band-1", "trend-band-2"]
    assert ids_starting(svg, "trend-line-") == ["trend-line-0", "trend-line-1", "trend-line-2"]


def test_no_key_when_every_point_has_enough_answers():
    assert "trend-key" not in ids(render_trend(weekly_points([100] * 12)))


def test_every_n_is_written_when_there_is_room_and_thinned_when_not():
    twelve = render_trend(weekly_points([100] * 12))
    assert len(ids_starting(twelve, "trend-n-")) == 12 + 1  # twelve counts and the row label

    year = render_trend(weekly_points([1000 + i for i in range(52)]))
    counts = ids_starting(year, "trend-n-")
    assert 1 < len(counts) < 52
    assert "trend-n-51" in counts  # thinning keeps the newest period
    labels = ids_starting(year, "trend-label-")
    assert 1 < len(labels) <= len(counts)
    assert set(labels) <= {f"trend-label-{i}" for i in range(52)}
    assert "trend-label-51" in labels


def test_period_without_answers_leaves_a_gap():
    points = weekly_points([100] * 5)
    points[2] = SeriesPoint("2026-W42", Estimate(None, None, None, 0))
    svg = render_trend(points)

    assert marker_count(svg, "trend-points-ok") == 4
    assert ids_starting(svg, "trend-band-") == ["trend-band-0", "trend-band-1"]
    assert "trend-n-2" in ids(svg)  # its n (0) is still written


def test_a_lone_trusted_period_still_shows_its_interval():
    svg = render_trend(weekly_points([100, 10, 100]))

    assert marker_count(svg, "trend-points-ok") == 2
    assert marker_count(svg, "trend-points-low") == 1
    assert ids_starting(svg, "trend-band-") == ["trend-band-0", "trend-band-1"]
    assert ids_starting(svg, "trend-line-") == []


@pytest.mark.parametrize("render", RENDERERS)
def test_empty_input_renders_the_empty_text(render):
    svg = render([], empty_text="本期没有回答")
    root = ET.fromstring(svg)

    assert root.find(f"{SVG_NS}desc").text == "本期没有回答"
    assert "empty-text" in ids(svg)
    assert "<!-- 本期没有回答 -->" in svg.decode()  # matplotlib's comment over the glyphs


def test_driver_bars_keep_the_given_order_and_grey_small_n():
    svg = render_drivers(min_n=30)

    bars = ids_starting(svg, "driver-bar-")
    assert bars == ["driver-bar-ok-0", "driver-bar-ok-1", "driver-bar-low-2", "driver-bar-ok-3"]
    assert len(ids_starting(svg, "driver-interval-")) == 4  # "Price" has no rho
    assert len(ids_starting(svg, "driver-note-")) == 5  # every row shows its n


def test_category_chart_rejects_percentages_for_proportions():
    with pytest.raises(ValueError, match=r"proportion\) must lie on 0\.\.1"):
        render_categories([("Queue", Estimate(31.0, 26.0, 36.0, 250))])


def test_interval_ends_a_rounding_error_past_the_limit_are_accepted():
    # A float a hair past 1 (as interval arithmetic produces) renders rather than raising.
    assert b"<svg" in render_categories([("Queue", Estimate(1.0, 0.98, 1.0000000000000002, 250))])
    assert b"<svg" in render_drivers([("Speed", Estimate(1.0, 0.99, 1.0000000000000002, 250))])


def test_driver_chart_rejects_rho_outside_minus_one_to_one():
    with pytest.raises(ValueError, match=r"must lie on -1\.\.1"):
        render_drivers([("Speed", Estimate(0.5, 0.2, 1.2, 100))])


def test_trend_rejects_an_empty_y_range():
    with pytest.raises(ValueError, match="y_range"):
        render_trend(y_range=(100.0, -100.0))


@needs_cjk_font
@pytest.mark.parametrize("image_format", ["svg", "png"])
def test_chinese_labels_render_without_warnings(image_format, caplog):
    caplog.set_level(logging.WARNING, logger="matplotlib")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outputs = [
            render_trend(
                title=f"{CHINESE_RATING}：每周净推荐值趋势，过去十二周所有门店合计",
                y_label="净推荐值",
                n_label="回答数",
                small_n_text="少于 {min_n} 个回答",
                image_format=image_format,
            ),
            render_drivers(
                title="哪些因素影响推荐", x_label="斯皮尔曼相关系数", image_format=image_format
            ),
            render_categories(title="投诉类别", x_label="占比", image_format=image_format),
        ]

    assert [str(w.message) for w in caught] == []
    assert caplog.records == []
    if image_format == "svg":
        # The CJK glyphs come from the CJK face, not from a fallback box.
        assert all(b'id="NotoSansCJK' in svg for svg in outputs)


def test_png_output_is_640_px_wide(tmp_path):
    """Writes one chart of each kind to tmp_path to look at (pytest prints the path)."""
    outputs = {
        "trend": render_trend(image_format="png"),
        "drivers": render_drivers(image_format="png"),
        "categories": render_categories(image_format="png"),
    }
    for name, png in outputs.items():
        assert png.startswith(PNG_SIGNATURE)
        width = int.from_bytes(png[16:20], "big")  # IHDR width
        assert width == 640
        (tmp_path / f"{name}.png").write_bytes(png)


def test_rendering_leaves_global_rcparams_alone():
    before = dict(matplotlib.rcParams)
    render_trend()
    render_drivers()
    assert dict(matplotlib.rcParams) == before


def test_charts_rendered_from_several_threads_match_sequential_ones():
    # rcParams are process-wide; the module serializes renders so threads of one web
    # worker cannot undo each other's settings.
    expected = [render() for render in RENDERERS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: RENDERERS[i % 3](), range(12)))
    assert results == [expected[i % 3] for i in range(12)]


@needs_cjk_font
@pytest.mark.parametrize(
    "text",
    ["暗访平均得分（0–100）", "满意占比，4–5 分（%）", "收银员的热情与帮助，商品陈列（整洁）"],
)
def test_wrapped_labels_keep_brackets_and_punctuation_with_their_words(text):
    prop = chart_font(TICK_PT)
    for width in (text_width(text, prop) * share for share in (0.35, 0.5, 0.6, 0.7, 0.8)):
        lines = wrap_text(text, width, prop, max_lines=6).split("\n")
        assert len(lines) > 1
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        # No line ends with an opening bracket or starts with closing punctuation.
        assert not any(line.rstrip().endswith(("（", "(")) for line in lines), lines
        assert not any(line.lstrip().startswith(tuple("）)，、。：%")) for line in lines), lines


def _marker_xs(svg: bytes, gid: str) -> list[float]:
    group = ET.fromstring(svg).find(f".//*[@id='{gid}']")
    assert group is not None
    return [float(use.attrib["x"]) for use in group.iter(f"{SVG_NS}use")]


def test_a_series_break_is_a_dashed_line_between_the_periods_it_separates():
    svg = render_trend(weekly_points([100] * 12), break_at=3.5, break_text="new wording")
    group = ET.fromstring(svg).find(".//*[@id='trend-break']")
    assert group is not None and "trend-break-label" in ids(svg)
    path = group.find(f"{SVG_NS}path")
    assert path is not None and "stroke-dasharray" in path.attrib["style"]
    xs = [float(v) for v in re.findall(r"M ([\d.]+) [\d.]+\s+L ([\d.]+)", path.attrib["d"])[0]]
    markers = _marker_xs(svg, "trend-points-ok")
    # Vertical, halfway between the markers of periods 3 and 4.
    assert xs[0] == pytest.approx(xs[1])
    assert xs[0] == pytest.approx((markers[3] + markers[4]) / 2, abs=0.01)
    assert "trend-break" not in ids(render_trend(weekly_points([100] * 12)))


@pytest.mark.parametrize("where", [-0.6, 11.6])
def test_a_break_outside_the_periods_is_refused(where):
    with pytest.raises(ValueError, match="break_at"):
        render_trend(weekly_points([100] * 12), break_at=where)
