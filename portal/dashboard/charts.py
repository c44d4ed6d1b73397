"""Chart images for the dashboards, rendered by `analysis.charts` and cached by their data:
a page view re-renders nothing unless the figures behind a chart changed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

from flask import Response, request

from analysis.charts import SeriesPoint, category_chart, driver_chart, trend_chart
from analysis.results import Estimate


@lru_cache(maxsize=512)
def _trend_svg(
    points: tuple[SeriesPoint, ...],
    title: str,
    y_label: str,
    y_range: tuple[float, float],
    empty_text: str,
    small_n_text: str,
    min_n: int,
) -> bytes:
    return trend_chart(
        points,
        title=title,
        y_label=y_label,
        y_range=y_range,
        min_n=min_n,
        empty_text=empty_text,
        small_n_text=small_n_text,
    )


@lru_cache(maxsize=256)
def _driver_svg(bars: tuple[tuple[str, Estimate], ...], title: str, x_label: str) -> bytes:
    return driver_chart(bars, title=title, x_label=x_label)


@lru_cache(maxsize=256)
def _category_svg(bars: tuple[tuple[str, Estimate], ...], title: str, x_label: str) -> bytes:
    return category_chart(bars, title=title, x_label=x_label)


def trend_svg(
    points: Sequence[SeriesPoint],
    *,
    title: str,
    y_label: str,
    y_range: tuple[float, float],
    empty_text: str,
    small_n_text: str,
    min_n: int,
) -> bytes:
    return _trend_svg(tuple(points), title, y_label, y_range, empty_text, small_n_text, min_n)


def driver_svg(bars: Sequence[tuple[str, Estimate]], *, title: str, x_label: str) -> bytes:
    return _driver_svg(tuple(bars), title, x_label)


def category_svg(bars: Sequence[tuple[str, Estimate]], *, title: str, x_label: str) -> bytes:
    return _category_svg(tuple(bars), title, x_label)


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
