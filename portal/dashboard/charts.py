"""Chart images for the dashboards, rendered by `analysis.charts` and cached by their data:
a page view re-renders nothing unless the figures behind a chart changed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from flask import Response, request

from analysis.charts import SeriesPoint, category_chart, driver_chart, trend_chart
from analysis.results import Estimate


# Chart data arrive as lists; the caches key on tuples of the same values. Keyword options
# (titles, labels, ranges) are part of the key, so one cache serves both languages.
@lru_cache(maxsize=512)
def _cached_trend(points: tuple[SeriesPoint, ...], **options: Any) -> bytes:
    return trend_chart(points, **options)


@lru_cache(maxsize=512)
def _cached_bars(kind: str, bars: tuple[tuple[str, Estimate], ...], **options: Any) -> bytes:
    draw = driver_chart if kind == "driver" else category_chart
    return draw(bars, **options)


def trend_svg(points: Sequence[SeriesPoint], **options: Any) -> bytes:
    """`analysis.charts.trend_chart` of ``points`` (its keyword options as given), cached."""
    return _cached_trend(tuple(points), **options)


def driver_svg(bars: Sequence[tuple[str, Estimate]], *, title: str, x_label: str) -> bytes:
    return _cached_bars("driver", tuple(bars), title=title, x_label=x_label)


def category_svg(bars: Sequence[tuple[str, Estimate]], *, title: str, x_label: str) -> bytes:
    return _cached_bars("category", tuple(bars), title=title, x_label=x_label)


def clear_chart_cache() -> None:
    """Forget every rendered chart (benchmarks time a first render with it)."""
    _cached_trend.cache_clear()
    _cached_bars.cache_clear()


def etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def svg_response(body: bytes) -> Response:
    """A chart as an SVG answer tagged by its content: a browser that has it gets a 304."""
    tag = etag(body)
    if request.if_none_match.contains(tag):
        return Response(status=304)
    response = Response(body, mimetype="image/svg+xml")
    response.set_etag(tag)
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
