"""Dashboard figures: rollup sums from `queries` turned into estimates, comparisons and
flags by `analysis`. Each report is a frozen dataclass the templates only display."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from analysis.categories import CategoryShare, category_shares
from analysis.compare import benjamini_hochberg, compare_csat, compare_nps
from analysis.control_laney import laney_above
from analysis.csat import csat_interval
from analysis.drivers import Driver, key_drivers
from analysis.funnel import FunnelFlag, StaffFunnel, funnel_outliers
from analysis.means import mean_interval
from analysis.nps import nps_interval
from analysis.results import Comparison, Estimate
from analysis.significance import is_significant
from analysis.trends import TrendPoint, month_start, trend_points, week_start
from portal.calendar import Period
from portal.dashboard import queries
from portal.dashboard.channel_split import (
    ChannelMix,
    ChannelRow,
    answers_of,
    channel_rows,
    summed,
)
from portal.dashboard.queries import StaffTotals, Totals
from portal.errors import DomainError
from portal.models import Store, User
from portal.models.rollups import RATING_KEYS
from surveys.strict import NotANumber, parse_int

#: Below this many answers a figure is greyed and not ranked or flagged (DESIGN §5).
MIN_N = 30
#: Weeks before the judged ones that form the control chart's baseline.
BASELINE_WEEKS = 12
#: The chain page judges the last weeks of the period against the baseline before them.
JUDGED_WEEKS = 4
PERIOD_CHOICES = (7, 30, 90, 365)


class InvalidPeriod(DomainError):
    status = 400
    code = "invalid_period"


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def parse_period(days: str | None, start: str | None, end: str | None, today: date) -> Period:
    """``?days=`` (one of PERIOD_CHOICES, ending today) or ``?from=&to=`` (inclusive)."""
    if start or end:
        try:
            if not (_DATE.fullmatch(start or "") and _DATE.fullmatch(end or "")):
                raise ValueError(start, end)
            period = Period(date.fromisoformat(start or ""), date.fromisoformat(end or ""))
        except ValueError:
            raise InvalidPeriod("Dates must look like 2026-11-22.") from None
        if period.start > period.end:
            raise InvalidPeriod("The start date is after the end date.")
        if period.days > 731:
            raise InvalidPeriod("Choose at most two years.")
        return period
    try:
        count = 30 if days is None or days == "" else parse_int(days)
    except NotANumber:
        raise InvalidPeriod("Choose 7, 30, 90 or 365 days.") from None
    if count not in PERIOD_CHOICES:
        raise InvalidPeriod("Choose 7, 30, 90 or 365 days.")
    return Period(today - timedelta(days=count - 1), today)


@dataclass(frozen=True, slots=True)
class Headline:
    nps: Estimate
    csat: Estimate
    nps_change: Comparison
    csat_change: Comparison

    @property
    def ranked(self) -> bool:
        return self.nps.n >= MIN_N


def headline(current: Totals, previous: Totals) -> Headline:
    return Headline(
        nps=nps_interval(current.nps),
        csat=csat_interval(current.csat_top2, current.csat_n),
        nps_change=compare_nps(current.nps, previous.nps, min_n=MIN_N),
        csat_change=compare_csat(
            current.csat_top2, current.csat_n, previous.csat_top2, previous.csat_n, min_n=MIN_N
        ),
    )


@dataclass(frozen=True, slots=True)
class StaffRow:
    staff: StaffTotals
    nps: Estimate
    response_rate: Estimate
    flag: FunnelFlag | None


@dataclass(frozen=True, slots=True)
class DayPart:
    key: str
    issued: int
    answered: int
    rate: Estimate


@dataclass(frozen=True, slots=True)
class StoreReport:
    store: Store
    period: Period
    totals: Totals
    headline: Headline
    #: This store against the rest of the chain (the store itself left out).
    vs_chain_nps: Comparison
    vs_chain_csat: Comparison
    ratings: tuple[tuple[str, Estimate], ...]
    categories: tuple[CategoryShare, ...]
    drivers: tuple[Driver, ...]
    staff: tuple[StaffRow, ...]
    day_parts: tuple[DayPart, ...]
    response_rate: Estimate
    #: The channel filter and the answers of each channel in the period's figures.
    channels: ChannelMix
    #: NPS and CSAT per channel of the period.
    by_channel: tuple[ChannelRow, ...]


def store_report(
    session: Session, store: Store, period: Period, channels: ChannelMix | None = None
) -> StoreReport:
    """The store page's figures over ``period``, of the answers of ``channels``' chosen
    channels (every channel without)."""
    channels = channels or ChannelMix()
    chosen = channels.chosen
    split = queries.totals_by_channel(session, [store.id], period, chosen)
    current = summed(split)
    previous = queries.totals(session, [store.id], period.previous(), chosen)
    # Only its NPS and CSAT counts are compared: the chain's other counts are not read.
    rest = queries.score_counts(session, None, period, chosen) - current.scores
    staff = queries.totals_by_staff(session, store.id, period, chosen)
    flags = {
        f.key: f
        for f in funnel_outliers(
            [
                StaffFunnel(s.code, s.totals["issued"], s.totals["issued_answered"], s.totals.nps)
                for s in staff
                if s.staff_id is not None and s.totals["issued"] > 0
            ],
            min_n=MIN_N,
        )
    }
    return StoreReport(
        store=store,
        period=period,
        totals=current,
        headline=headline(current, previous),
        vs_chain_nps=compare_nps(current.nps, rest.nps, min_n=MIN_N),
        vs_chain_csat=compare_csat(
            current.csat_top2, current.csat_n, rest.csat_top2, rest.csat_n, min_n=MIN_N
        ),
        ratings=tuple((m.key, mean_interval(m.n, m.total, m.total_sq)) for m in current.ratings),
        categories=store_categories(session, store, period, chosen),
        drivers=store_drivers(session, store, period, chosen),
        staff=tuple(
            StaffRow(
                staff=s,
                nps=nps_interval(s.totals.nps),
                response_rate=response_rate(s.totals["issued_answered"], s.totals["issued"]),
                flag=flags.get(s.code),
            )
            for s in staff
        ),
        day_parts=tuple(
            DayPart(key, issued, answered, response_rate(answered, issued))
            for key, issued, answered in queries.funnel_by_day_part(session, store, period)
        ),
        response_rate=response_rate(current["issued_answered"], current["issued"]),
        channels=channels.counted(answers_of(split)),
        by_channel=channel_rows(split),
    )


def store_drivers(
    session: Session, store: Store, period: Period, channels: Sequence[str] = ()
) -> tuple[Driver, ...]:
    """Which service rating moves likelihood to recommend most, at this store."""
    rows = queries.driver_rows(session, store.id, period, channels)
    return tuple(
        key_drivers(
            [r[0] for r in rows],
            {key: [r[i + 1] for r in rows] for i, key in enumerate(RATING_KEYS)},
            min_n=MIN_N,
        )
    )


def store_categories(
    session: Session, store: Store, period: Period, channels: Sequence[str] = ()
) -> tuple[CategoryShare, ...]:
    return tuple(category_shares(queries.category_counts(session, store.id, period, channels)))


def response_rate(answered: int, issued: int) -> Estimate:
    """Share of issued receipts answered, in percent, with its Wilson interval."""
    # Counted by issue day, a receipt can be answered after the period ends: never > 100 %.
    return csat_interval(min(answered, issued), issued)


def bucket_of(period: Period) -> str:
    """Days for a month or less, weeks up to half a year, months beyond."""
    if period.days <= 31:
        return "day"
    return "week" if period.days <= 183 else "month"


def _label(day: date, bucket: str) -> tuple[date, str]:
    if bucket == "day":
        return day, day.strftime("%m-%d")
    if bucket == "week":
        start = week_start(day)
        year, week, _ = start.isocalendar()
        return start, f"{year}-W{week:02d}"
    start = month_start(day)
    return start, start.strftime("%Y-%m")


def trend(
    session: Session,
    store_ids: Sequence[int] | None,
    period: Period,
    channels: Sequence[str] = (),
) -> list[TrendPoint]:
    """NPS and CSAT per day, week or month of the period (empty buckets shown as n = 0)."""
    bucket = bucket_of(period)
    sums: dict[tuple[date, str], Totals] = {}
    day = period.start
    while day <= period.end:
        sums.setdefault(_label(day, bucket), Totals())
        day += timedelta(days=1)
    read = queries.totals_by_month if bucket == "month" else queries.totals_by_day
    for day, totals in read(session, store_ids, period, channels):
        key = _label(day, bucket)
        sums[key] = sums[key] + totals
    return trend_points(
        [
            (label, totals.nps, totals.csat_top2, totals.csat_n)
            for (_start, label), totals in sorted(sums.items())
        ]
    )


def break_position(points: Sequence[TrendPoint], period: Period, day: date) -> float | None:
    """Where a scoring-series break on ``day`` falls on the trend of ``period`` (see
    `analysis.charts.trend_chart`'s ``break_at``): just before the bucket it starts, through
    the middle of a week or month it splits; ``None`` outside the period."""
    if not period.start < day <= period.end:
        return None
    start, label = _label(day, bucket_of(period))
    for i, point in enumerate(points):
        if point.label == label:
            return i - 0.5 if start == day else float(i)
    return None


@dataclass(frozen=True, slots=True)
class ChainRow:
    store: Store
    totals: Totals
    headline: Headline
    #: Period change flagged after Benjamini-Hochberg across the stores on the page.
    change_p_adjusted: float | None
    change_flagged: bool
    #: A week of the period whose detractor share is above its control limit (Laney p′ or p).
    out_of_control_weeks: tuple[str, ...]
    #: The answers of each channel among this store's figures.
    channels: ChannelMix = ChannelMix()


@dataclass(frozen=True, slots=True)
class ChainReport:
    period: Period
    region: str | None
    rows: tuple[ChainRow, ...]
    total: Headline
    total_n: int
    #: The channel filter and the answers of each channel over the stores shown.
    channels: ChannelMix = ChannelMix()
    #: NPS and CSAT per channel over the stores shown.
    by_channel: tuple[ChannelRow, ...] = ()


def chain_report(
    session: Session,
    user: User,
    period: Period,
    region: str | None,
    channels: ChannelMix | None = None,
) -> ChainReport:
    """The chain (or region) page's figures, of the answers of ``channels``' chosen
    channels (every channel without)."""
    channels = channels or ChannelMix()
    chosen = channels.chosen
    by_store = queries.totals_by_store_and_channel(session, user, period, region, chosen)
    current = [(store, summed(split)) for store, split in by_store]
    split_total: dict[str, Totals] = {}
    for _store, split in by_store:
        for channel, totals in split.items():
            split_total[channel] = split_total.get(channel, Totals()) + totals
    previous = dict(
        (store.id, totals)
        for store, totals in queries.totals_by_store(
            session, user, period.previous(), region, chosen
        )
    )
    weekly = _weekly_detractors(session, user, period, chosen)
    heads = [(store, totals, headline(totals, previous[store.id])) for store, totals in current]
    tested = [i for i, (_s, _t, h) in enumerate(heads) if h.nps_change.p_value is not None]
    adjusted = benjamini_hochberg([heads[i][2].nps_change.p_value or 1.0 for i in tested])
    p_adjusted: dict[int, float] = dict(zip(tested, adjusted, strict=True))
    rows = tuple(
        ChainRow(
            store=store,
            totals=totals,
            headline=head,
            change_p_adjusted=p_adjusted.get(i),
            change_flagged=head.nps_change.significant and is_significant(p_adjusted.get(i)),
            out_of_control_weeks=weekly.get(store.id, ()),
            channels=channels.counted(answers_of(split)),
        )
        for i, ((store, totals, head), (_store, split)) in enumerate(
            zip(heads, by_store, strict=True)
        )
    )
    total = sum((t for _s, t in current), Totals())
    total_previous = sum(previous.values(), Totals())
    return ChainReport(
        period,
        region,
        rows,
        headline(total, total_previous),
        total.responses,
        channels=channels.counted(answers_of(split_total)),
        by_channel=channel_rows(split_total),
    )


def _weekly_detractors(
    session: Session, user: User, period: Period, channels: Sequence[str] = ()
) -> dict[int, tuple[str, ...]]:
    """The period's last weeks above the control limit, judged against 12 weeks before them
    (Laney's p′ when those weeks vary more than the binomial, else the p-chart)."""
    judged_from = max(
        week_start(period.start), week_start(period.end) - timedelta(weeks=JUDGED_WEEKS - 1)
    )
    first = judged_from - timedelta(weeks=BASELINE_WEEKS)
    weekly = queries.weekly_detractors_by_store(session, user, Period(first, period.end), channels)
    # Every store's weeks as one row of a stores x weeks grid (a week without answers has
    # n = 0, which a chart skips as it skips a missing week), judged in one numpy pass.
    starts = [first + timedelta(weeks=i) for i in range(BASELINE_WEEKS)]
    while starts[-1] < week_start(period.end):
        starts.append(starts[-1] + timedelta(weeks=1))
    column = {start: i for i, start in enumerate(starts)}
    store_ids, counts, sizes = [], [], []
    for store_id, rows in weekly.items():
        detractors, n = [0] * len(starts), [0] * len(starts)
        for start, d, size in rows:
            detractors[column[start]], n[column[start]] = d, size
        base_d, base_n = sum(detractors[:BASELINE_WEEKS]), sum(n[:BASELINE_WEEKS])
        if base_n < MIN_N:
            continue
        # A week can only be above its limit if its share is above the centre line: only
        # stores with such a week are charted (as before the charts were batched).
        if not any(
            n[i] and detractors[i] / n[i] > base_d / base_n for i in range(BASELINE_WEEKS, len(n))
        ):
            continue
        store_ids.append(store_id)
        counts.append(detractors)
        sizes.append(n)
    if not store_ids:
        return {}
    above = laney_above(counts, sizes, baseline=BASELINE_WEEKS)
    labels = [f"{w.isocalendar()[0]}-W{w.isocalendar()[1]:02d}" for w in starts]
    flagged: dict[int, tuple[str, ...]] = {}
    for store_id, row in zip(store_ids, above.tolist(), strict=True):
        weeks = tuple(labels[i] for i in range(BASELINE_WEEKS, len(starts)) if row[i])
        if weeks:
            flagged[store_id] = weeks
    return flagged
