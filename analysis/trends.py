"""Trends: NPS and CSAT per period, each with its interval and n, and the period labels.

The caller groups answers into buckets (a week, a month) and passes their counts; this
module computes the figures for each bucket and owns what "the week of" and "the month of"
a date mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from analysis.csat import csat_interval
from analysis.nps import nps_interval
from analysis.results import Estimate, NpsCounts


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One period: its label, NPS in points and CSAT in percent, each with its n."""

    label: str
    nps: Estimate
    csat: Estimate


def trend_points(
    buckets: Sequence[tuple[str, NpsCounts, int, int]], confidence: float = 0.95
) -> list[TrendPoint]:
    """NPS and CSAT with their intervals for each period.

    Parameters
    ----------
    buckets : sequence of (label, NpsCounts, csat_top2, csat_n)
        One tuple per period, in display order: the label, the NPS answers, and the
        top-2-box and total answers of the satisfaction question.
    confidence : float, optional
        Two-sided confidence level, default 0.95.

    Returns
    -------
    list of TrendPoint
        In the order given. NPS by :func:`analysis.nps.nps_interval` (adjusted Wald),
        CSAT by :func:`analysis.csat.csat_interval` (Wilson); a period without answers
        has ``None`` figures and n = 0, never 0.

    Raises
    ------
    ValueError
        On a repeated label or invalid counts.

    References
    ----------
    .. [1] Rocks B. (2016), see :func:`analysis.nps.nps_interval`.
    .. [2] Newcombe R.G. (1998), see :func:`analysis.csat.wilson_interval`.

    Examples
    --------
    >>> [p] = trend_points([("2026-W47", NpsCounts(40, 30, 30), 80, 100)])
    >>> p.nps.value, p.csat.value, p.csat.n
    (10.0, 80.0, 100)
    """
    labels = [bucket[0] for bucket in buckets]
    if len(set(labels)) != len(labels):
        raise ValueError("bucket labels must be unique")
    return [
        TrendPoint(label, nps_interval(counts, confidence), csat_interval(top2, n, confidence))
        for label, counts, top2, n in buckets
    ]


def _day(d: date) -> date:
    # A datetime is a date too; take its calendar day as given (convert to the store's
    # time zone before calling).
    return d.date() if isinstance(d, datetime) else d


def week_start(d: date) -> date:
    """The Monday that starts the ISO 8601 week of ``d``.

    Parameters
    ----------
    d : datetime.date
        Any day (a ``datetime`` counts by its own calendar day; localise it first).

    Returns
    -------
    datetime.date
        ``d - d.weekday()`` days. Label it with ``week_start(d).isocalendar()`` if an ISO
        week number is wanted (the ISO year can differ from the calendar year).

    References
    ----------
    .. [1] ISO 8601-1:2019, section 5.2.4 (week dates; weeks start on Monday).

    Examples
    --------
    >>> week_start(date(2026, 11, 22))
    datetime.date(2026, 11, 16)
    """
    day = _day(d)
    return day - timedelta(days=day.weekday())


def month_start(d: date) -> date:
    """The first day of the calendar month of ``d``.

    Parameters
    ----------
    d : datetime.date
        Any day (a ``datetime`` counts by its own calendar day).

    Returns
    -------
    datetime.date
        ``d`` with the day set to 1.

    Examples
    --------
    >>> month_start(date(2026, 11, 22))
    datetime.date(2026, 11, 1)
    """
    return _day(d).replace(day=1)
