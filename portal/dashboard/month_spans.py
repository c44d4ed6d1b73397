"""How a period of days is read from the rollup grains: whole months from the monthly
tables, the days at either end from the daily ones (`split_by_months`), and an end that
covers most of its month as that month less its other days (`month_reading`). Pure date
arithmetic, the one rule every rollup read of `portal.dashboard.queries` follows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from portal.calendar import Period, month_start, next_month


def split_by_months(period: Period) -> tuple[list[Period], Period | None]:
    """The period as whole months (read from the monthly rollup) plus the days at either
    end (read from the daily one): a year costs 12 rows a store instead of 365."""
    first = period.start if period.start.day == 1 else next_month(period.start)
    # The first day after the last whole month: the day after the end if that starts a
    # month, else the first day of the end's own (partial) month.
    day_after = period.end + timedelta(days=1)
    after_last = day_after if day_after.day == 1 else month_start(period.end)
    if first >= after_last:
        return [period], None
    edges = []
    if period.start < first:
        edges.append(Period(period.start, first - timedelta(days=1)))
    if after_last <= period.end:
        edges.append(Period(after_last, period.end))
    return edges, Period(first, after_last - timedelta(days=1))


@dataclass(frozen=True, slots=True)
class MonthReading:
    """How a period is read from the rollup grains: the days of ``added`` plus the whole
    months of ``months`` less the days of ``removed`` (days of those months outside the
    period)."""

    added: tuple[Period, ...]
    months: Period | None
    removed: tuple[Period, ...]


def _within_months(spans: Sequence[Period]) -> list[Period]:
    """``spans`` cut at each month's end (a period without a whole month is one span)."""
    pieces = []
    for span in spans:
        start = span.start
        while start <= span.end:
            end = min(span.end, Period.of_month(start).end)
            pieces.append(Period(start, end))
            start = end + timedelta(days=1)
    return pieces


def month_reading(period: Period) -> MonthReading:
    """`split_by_months`, where an edge that covers most of its month is read as the
    whole month less the month's other days: the fewer day rows, the faster the read (a
    year ending on the 7th reads 7 + 7 days instead of 24 + 7)."""
    edges, months = split_by_months(period)
    added: list[Period] = []
    removed: list[Period] = []
    first, last = (months.start, months.end) if months else (None, None)
    for edge in _within_months(edges):
        month = Period.of_month(edge.start)
        before, after = edge.start - timedelta(days=1), edge.end + timedelta(days=1)
        others = [Period(a, b) for a, b in ((month.start, before), (after, month.end)) if a <= b]
        if sum(o.days for o in others) >= edge.days:
            added.append(edge)
            continue
        removed.extend(others)
        first = month.start if first is None else min(first, month.start)
        last = month.end if last is None else max(last, month.end)
    whole = None if first is None or last is None else Period(first, last)
    return MonthReading(tuple(added), whole, tuple(removed))
