"""The themes page's figures: each theme's share of a month's classified comments against
the previous month, judged the way every "this period against the previous" share is
judged on the dashboard (`analysis.compare.compare_csat`: Newcombe's interval of the
difference and the two-proportion test, each month needing `MIN_N` comments), with the
p-values Benjamini-Hochberg adjusted across the themes tested, since 19 themes tested at
once would flag one by chance about every other month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from analysis.compare import benjamini_hochberg, compare_csat
from analysis.results import Comparison
from analysis.significance import Verdict, comparison_verdict
from portal.calendar import Period, next_month, previous_month
from portal.dashboard.reports import MIN_N
from portal.themes.queries import ThemeCounts, ThemeShareRow, count_themes, share_rows


class Trend(StrEnum):
    """Which way a theme's share moved from the previous month, in words."""

    RISING = "rising"
    FALLING = "falling"
    NO_CLEAR_CHANGE = "no_clear_change"
    NOT_ENOUGH_DATA = "not_enough_data"


_TRENDS = {
    Verdict.BETTER: Trend.RISING,
    Verdict.WORSE: Trend.FALLING,
    Verdict.NO_CLEAR_CHANGE: Trend.NO_CLEAR_CHANGE,
    Verdict.NOT_ENOUGH_DATA: Trend.NOT_ENOUGH_DATA,
}


@dataclass(frozen=True, slots=True)
class ThemeTrendRow:
    """A theme this month, its share last month, the comparison (percentage points) and
    the Benjamini-Hochberg adjusted p-value it is judged by (``None``: no test ran)."""

    current: ThemeShareRow
    previous: ThemeShareRow
    change: Comparison
    p_adjusted: float | None
    trend: Trend


@dataclass(frozen=True, slots=True)
class ThemeReport:
    period: Period
    previous_period: Period
    #: Classified comments of the month and of the month before.
    n: int
    previous_n: int
    rows: tuple[ThemeTrendRow, ...]

    @property
    def enough(self) -> bool:
        """Whether the month has enough comments for its shares to be read (else greyed)."""
        return self.n >= MIN_N


def theme_trends(
    current: Sequence[ThemeShareRow], previous: Sequence[ThemeShareRow], n: int, previous_n: int
) -> tuple[ThemeTrendRow, ...]:
    """Every theme mentioned in either month, ordered as ``current`` (most mentioned
    first) and then the themes only last month mentioned; each compared with last month
    and judged on its BH-adjusted p (a theme needs both months at `MIN_N` comments)."""
    now = {row.key: row for row in current}
    before = {row.key: row for row in previous}
    keys = [row.key for row in current] + [r.key for r in previous if r.key not in now]
    changes = [
        compare_csat(
            now[key].count if key in now else 0,
            n,
            before[key].count if key in before else 0,
            previous_n,
            min_n=MIN_N,
        )
        for key in keys
    ]
    tested = [i for i, change in enumerate(changes) if change.p_value is not None]
    adjusted = dict(
        zip(tested, benjamini_hochberg([changes[i].p_value or 1.0 for i in tested]), strict=True)
    )
    rows = []
    for i, key in enumerate(keys):
        p = adjusted.get(i)
        verdict = comparison_verdict(changes[i], min_n=MIN_N, p_value=p)
        rows.append(
            ThemeTrendRow(
                current=now.get(key) or _absent(key, n),
                previous=before.get(key) or _absent(key, previous_n),
                change=changes[i],
                p_adjusted=p,
                # A missing p (no test possible) is never significant: comparison_verdict
                # reads it as "no clear change".
                trend=_TRENDS[verdict],
            )
        )
    return tuple(rows)


def _absent(key: str, n: int) -> ThemeShareRow:
    """A theme no comment of a month mentions: 0 of that month's ``n``."""
    [row] = share_rows(ThemeCounts(n, {key: 0}, {}))
    return row


def theme_report(
    session: Session, store_ids: Sequence[int], period: Period, channels: Sequence[str] = ()
) -> ThemeReport:
    """The themes of ``store_ids``' classified comments over ``period`` against the
    period just before it (for a month: the month before)."""
    previous_period = _previous(period)
    now = count_themes(session, store_ids, period, channels)
    before = count_themes(session, store_ids, previous_period, channels)
    rows = theme_trends(share_rows(now), share_rows(before), now.n, before.n)
    return ThemeReport(period, previous_period, now.n, before.n, rows)


def _previous(period: Period) -> Period:
    """The month before a calendar month (whatever its length); else the period of the
    same length just before."""
    if period.start.day == 1 and next_month(period.start) == period.end + timedelta(days=1):
        return Period(previous_month(period.start), period.start - timedelta(days=1))
    return period.previous()
