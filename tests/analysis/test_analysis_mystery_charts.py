"""The touchpoint × store heat map (analysis.charts.heatmap_chart) and the monthly mystery
score trend drawn with the existing trend chart. PNGs are written to tmp_path to look at."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from analysis.charts import SeriesPoint, heatmap_chart, trend_chart
from analysis.means import mean_interval_of

SVG_NS = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

STORES = ["上海南京西路店", "Beijing Wangfujing", "Guangzhou Tianhe flagship store by the metro"]
TOUCHPOINTS = ["门店环境", "Greeting", "Needs discovery", "产品介绍", "Checkout", "Farewell"]
VALUES = [
    [87.5, 75.0, 66.666667, 85.714286, 88.888889, 50.0],
    [100.0, 92.3, None, 70.0, 95.05, 81.0],
    [45.2, 60.0, 71.0, 99.9, 0.0, 33.3],
]
COUNTS = [[4, 4, 3, 4, 4, 4], [2, 2, 0, 2, 2, 2], [1, 1, 1, 1, 1, 1]]


def render(**kwargs):
    options = {"title": "Mystery score by touchpoint, 2026-11"} | kwargs
    return heatmap_chart(STORES, TOUCHPOINTS, VALUES, COUNTS, **options)


def ids(svg: bytes) -> list[str]:
    return [el.attrib["id"] for el in ET.fromstring(svg).iter() if "id" in el.attrib]


def test_svg_parses_and_carries_the_title_and_every_cell_value():
    svg = render(desc="Rows are stores, columns touchpoints.")
    root = ET.fromstring(svg)

    assert root.tag == f"{SVG_NS}svg"
    assert root.attrib["width"] == "100%"
    assert root.find(f"{SVG_NS}title").text == "Mystery score by touchpoint, 2026-11"
    assert root.find(f"{SVG_NS}desc").text == "Rows are stores, columns touchpoints."
    text = svg.decode()
    # Text is drawn as glyph paths; matplotlib keeps each string in a comment beside them.
    for shown in ["87.5", "66.7", "85.7", "88.9", "50.0", "100.0", "92.3", "95.0", "0.0"]:
        assert f"<!-- {shown} -->" in text
    assert "<!-- – -->" in text  # the cell without a value
    assert "<!-- n=4 -->" in text
    assert "<!-- 上海南京西路店 -->" in text


def test_every_cell_row_and_column_gets_an_id():
    found = set(ids(render()))

    for r in range(3):
        assert f"heatmap-row-{r}" in found
        for c in range(6):
            assert f"heatmap-cell-{r}-{c}" in found
            assert f"heatmap-value-{r}-{c}" in found
            assert (f"heatmap-n-{r}-{c}" in found) == (VALUES[r][c] is not None)
    assert {f"heatmap-column-{c}" for c in range(6)} <= found


def test_cells_below_min_n_are_grey_and_explained_by_a_key():
    assert "heatmap-key" not in ids(render())  # min_n = 1: only the empty cell is grey
    svg = render(min_n=2, small_n_text="灰色：少于 {min_n} 次访问")
    assert "heatmap-key" in ids(svg)
    assert "<!-- 灰色：少于 2 次访问 -->" in svg.decode()
    cell = ET.fromstring(svg).find(f".//*[@id='heatmap-cell-2-0']/{SVG_NS}path")
    assert "#dcdcdc" in cell.attrib["style"]


def test_two_calls_give_identical_bytes():
    first = render()
    render(title="something else in between")
    assert render() == first


def test_png_variant(tmp_path):
    png = render(image_format="png")
    assert png.startswith(PNG_SIGNATURE)
    assert int.from_bytes(png[16:20], "big") == 640
    (tmp_path / "heatmap.png").write_bytes(png)


def test_many_columns_and_stores_still_render(tmp_path):
    stores = [f"Store {i:02d}" for i in range(30)]
    columns = [f"Touchpoint {c}" for c in range(10)]
    values = [[(i * 7 + c * 13) % 101 for c in range(10)] for i in range(30)]
    counts = [[1 + (i + c) % 5 for c in range(10)] for i in range(30)]
    png = heatmap_chart(stores, columns, values, counts, title="All stores", image_format="png")
    assert png.startswith(PNG_SIGNATURE)
    (tmp_path / "heatmap-large.png").write_bytes(png)


@pytest.mark.parametrize(("rows", "columns"), [([], TOUCHPOINTS), (STORES, [])])
def test_no_rows_or_no_columns_shows_the_empty_text(rows, columns):
    values = [[None] * len(columns) for _ in rows]
    counts = [[0] * len(columns) for _ in rows]
    svg = heatmap_chart(rows, columns, values, counts, title="t", empty_text="本月没有访问")

    assert ET.fromstring(svg).find(f"{SVG_NS}desc").text == "本月没有访问"
    assert "empty-text" in ids(svg)


@pytest.mark.parametrize(
    ("values", "counts", "message"),
    [
        (VALUES[:2], COUNTS, "one row per row name"),
        (VALUES, [row[:5] for row in COUNTS], "row 0 needs 6"),
        ([[101.0] * 6, *VALUES[1:]], COUNTS, r"0\.\.100"),
        ([[-0.5] * 6, *VALUES[1:]], COUNTS, r"0\.\.100"),
        (VALUES, [[-1] * 6, *COUNTS[1:]], "counts"),
        (VALUES, [[1.5] * 6, *COUNTS[1:]], "counts"),
    ],
)
def test_bad_shapes_and_values_raise(values, counts, message):
    with pytest.raises(ValueError, match=message):
        heatmap_chart(STORES, TOUCHPOINTS, values, counts, title="t")


def test_monthly_mystery_trend_uses_the_trend_chart(tmp_path):
    # The existing trend chart draws a 0-100 monthly series with its t band and n; a month
    # with fewer than min_n visits is hollow and a month without visits leaves a gap.
    months = {
        "2026-06": [78.7, 81.2, 90.0, 65.6],
        "2026-07": [82.0, 88.4, 79.1],
        "2026-08": [],
        "2026-09": [91.0],
        "2026-10": [70.0, 75.5, 80.2, 85.0, 77.7],
    }
    points = [SeriesPoint(month, mean_interval_of(scores)) for month, scores in months.items()]
    svg = trend_chart(
        points,
        title="Mystery score by month",
        y_label="Score",
        y_range=(0.0, 100.0),
        min_n=3,
        small_n_text="fewer than {min_n} visits",
    )
    found = ids(svg)
    assert "trend-points-low" in found and "trend-key" in found
    assert {"trend-band-0", "trend-band-1"} <= set(found)
    png = trend_chart(points, title="t", y_label="Score", y_range=(0, 100), image_format="png")
    (tmp_path / "mystery-trend.png").write_bytes(png)
