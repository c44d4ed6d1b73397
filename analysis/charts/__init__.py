"""Dashboard charts: a trend of one estimate over periods, driver correlations and category
shares, each drawn from :class:`~analysis.results.Estimate` values with its interval and n,
and the mystery-shop heat map of scores by store and touchpoint. Figures are built with
``matplotlib.figure.Figure`` (never pyplot, so no global state and no GUI backend) and
returned as bytes: a responsive SVG (``width="100%"`` and a ``viewBox``, text as glyph paths
so Chinese reads without the viewer's fonts, identical bytes for identical input) or a
100 dpi PNG. Sizes are chosen for a ~330 CSS px wide phone screen. The modules:
:mod:`~analysis.charts.common` (style, fonts, text measuring, encoding),
:mod:`~analysis.charts.trend`, :mod:`~analysis.charts.bars` (drivers and categories) and
:mod:`~analysis.charts.heatmap`; every public name is importable from here.
"""

from analysis.charts.bars import category_chart, driver_chart
from analysis.charts.common import ImageFormat
from analysis.charts.heatmap import heatmap_chart
from analysis.charts.trend import SeriesPoint, trend_chart

__all__ = [
    "ImageFormat",
    "SeriesPoint",
    "category_chart",
    "driver_chart",
    "heatmap_chart",
    "trend_chart",
]
