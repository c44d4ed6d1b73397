"""Building a monthly review: the figures of one store or one region for one month, read
through the queries the other pages use (dashboard rollups, the case service level, the
mystery reports, the staff ranking, the award cycle), frozen into a `ReviewContent`.

The builder only reads. It is deterministic for a month that is over: the service level
is judged as at the end of the month (a case due later is not yet late), so generating the
same month twice gives the same figures for the same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from analysis.compare import compare_csat, compare_nps
from analysis.csat import csat_interval, wilson_interval
from analysis.nps import nps_interval
from analysis.results import Comparison, Estimate
from analysis.significance import comparison_verdict
from portal.calendar import Period, months_ending, next_month, previous_month
from portal.cases.service_level import period_bounds, service_level
from portal.config import Settings
from portal.dashboard.queries import totals, totals_by_month
from portal.dashboard.reports import MIN_N
from portal.hr.policy import current_policy, parameters_of
from portal.hr.queries import coaching_list
from portal.hr.ranking import MonthRanking, rank_month
from portal.models import (
    AwardCycle,
    CycleState,
    Nomination,
    NominationState,
    Region,
    Staff,
    Store,
)
from portal.models.review import TrainingState
from portal.mystery.reports import Moments, score_by_month, section_moments, touchpoints
from portal.review.content import (
    Change,
    CoachingLine,
    Figure,
    MysterySection,
    ReviewContent,
    ServiceRow,
    StarLine,
    TargetLine,
    ThemeLine,
    TouchpointLine,
    TrainingLine,
    TrendMonth,
    Trends,
)
from portal.targets.scorecard import scorecard
from portal.themes.queries import example_comments, top_themes
from portal.training.queries import list_trainings, training_effects_for_review

#: Months of trainings the review lists (the training effects are read over weeks around
#: each training, so the last quarter's are the ones with something to say).
TRAINING_MONTHS = 3
#: Months of the trend series, ending with the month reviewed.
TREND_MONTHS = 12
#: The themes a review shows, and the example comments of each.
TOP_THEMES = 5
THEME_EXAMPLES = 2


def scope_stores(
    session: Session, *, store: Store | None, region: Region | None, month: date
) -> list[Store]:
    """The stores a review covers: the store, or the region's stores that were open at
    some time in the month."""
    if store is not None:
        return [store]
    assert region is not None
    start = datetime.combine(month, datetime.min.time(), UTC)
    stmt = (
        select(Store)
        .where(
            Store.region == region.name,
            or_(Store.closed_at.is_(None), Store.closed_at >= start),
        )
        .order_by(Store.code)
    )
    return list(session.scalars(stmt))


def build_review(
    session: Session,
    settings: Settings,
    *,
    store: Store | None,
    region: Region | None,
    month: date,
    now: datetime | None = None,
    ranking: MonthRanking | None = None,
) -> ReviewContent:
    """The review of ``store`` or ``region`` (exactly one) for ``month`` (its first day).

    ``now`` is the generation time written into the content (default: the end of the
    month); ``ranking`` is the month's staff ranking when the caller has it already (the
    job ranks the chain once for all its reviews).

    Raises
    ------
    ValueError
        Neither or both of ``store`` and ``region`` are given.
    """
    if (store is None) == (region is None):
        raise ValueError("a review is of one store or of one region")
    period = Period.of_month(month)
    stores = scope_stores(session, store=store, region=region, month=month)
    ids = [s.id for s in stores]
    if ranking is None:
        policy = current_policy(session)
        ranking = rank_month(session, month, scope=policy.scope, parameters=parameters_of(policy))
    targets, targets_ready = review_targets(session, settings, stores, store, region, period)
    themes, themes_ready = review_themes(session, ids, period)
    service = tuple(_service_row(session, s, period) for s in stores)
    awards_state, stars = _stars(session, ids, month, ranking)
    return ReviewContent(
        scope="store" if store is not None else "region",
        scope_name=f"{store.code} {store.name}" if store is not None else region.name,  # type: ignore[union-attr]
        month=month,
        generated_at=now or datetime.combine(period.end, datetime.max.time(), UTC),
        store_codes=tuple(s.code for s in stores),
        targets=targets,
        targets_ready=targets_ready,
        trends=_trends(session, ids, month),
        service=service,
        service_total=_service_total(service) if region is not None else None,
        mystery=_mystery(session, ids, period),
        themes=themes,
        themes_ready=themes_ready,
        awards_state=awards_state,
        stars=stars,
        coaching=_coaching(ranking, ids),
        trainings=_trainings(session, ids, month),
    )


# -- (a) targets and (e) themes: read from their own packages ---------------------------------


def review_targets(
    session: Session,
    settings: Settings,
    stores: Sequence[Store],
    store: Store | None,
    region: Region | None,
    period: Period,
) -> tuple[tuple[TargetLine, ...], bool]:
    """The six targeted figures against the targets in force on the month's last day (the
    store's own, else its region's, else the chain's), and that they were read."""
    found = scorecard(
        session,
        settings,
        store_ids=[s.id for s in stores],
        start=period.start,
        end=period.end,
        target_store=store,
        target_region_id=None if region is None else region.id,
        now=_month_end(period),
    )
    return tuple(
        TargetLine(
            metric=figure.metric.value,
            estimate=Figure.of(figure.estimate),
            target=figure.target,
            status="no_target" if figure.status is None else figure.status.value,
        )
        for figure in found
    ), True


def review_themes(
    session: Session, store_ids: Sequence[int], period: Period
) -> tuple[tuple[ThemeLine, ...], bool]:
    """The month's most mentioned themes, each with its share of the classified comments
    in percent and a few of its comments (negative ones first), personal data masked."""
    lines = []
    for row in top_themes(session, store_ids, period.start, period.end, limit=TOP_THEMES):
        examples = example_comments(
            session, store_ids, row.key, period.start, period.end, limit=THEME_EXAMPLES
        )
        lines.append(
            ThemeLine(
                theme=row.key,
                share=_scaled(row.share, 100),
                negative=row.negative,
                examples=tuple(comment.text for comment in examples),
            )
        )
    return tuple(lines), True


# -- (b) trends ----------------------------------------------------------------------------


def _change(comparison: Comparison) -> Change:
    verdict = comparison_verdict(comparison, min_n=MIN_N)
    return Change(verdict.value, comparison.diff, comparison.p_value, comparison.method)


def _trends(session: Session, store_ids: Sequence[int], month: date) -> Trends:
    before = previous_month(month)
    now_ = totals(session, store_ids, Period.of_month(month))
    last = totals(session, store_ids, Period.of_month(before))
    year = totals(
        session, store_ids, Period(months_ending(before, TREND_MONTHS)[0], month - timedelta(1))
    )
    first = months_ending(month, TREND_MONTHS)[0]
    by_month = dict(totals_by_month(session, store_ids, Period(first, Period.of_month(month).end)))
    series = []
    for m in months_ending(month, TREND_MONTHS):
        t = by_month.get(m)
        if t is None:
            series.append(TrendMonth(m, Figure(), Figure()))
            continue
        series.append(
            TrendMonth(
                m,
                Figure.of(nps_interval(t.nps)),
                Figure.of(csat_interval(t.csat_top2, t.csat_n)),
            )
        )
    return Trends(
        nps=Figure.of(nps_interval(now_.nps)),
        csat=Figure.of(csat_interval(now_.csat_top2, now_.csat_n)),
        nps_vs_previous=_change(compare_nps(now_.nps, last.nps, min_n=MIN_N)),
        csat_vs_previous=_change(
            compare_csat(now_.csat_top2, now_.csat_n, last.csat_top2, last.csat_n, min_n=MIN_N)
        ),
        nps_vs_year=_change(compare_nps(now_.nps, year.nps, min_n=MIN_N)),
        csat_vs_year=_change(
            compare_csat(now_.csat_top2, now_.csat_n, year.csat_top2, year.csat_n, min_n=MIN_N)
        ),
        months=tuple(series),
    )


# -- (c) service level of cases --------------------------------------------------------------


def _service_row(session: Session, store: Store, period: Period) -> ServiceRow:
    # Judged as at the end of the month: a case due after it is not counted late yet.
    _start, end = period_bounds(period, store.timezone)
    level = service_level(session, store.id, period, now=end)
    rate = level.complaint_rate_per_1000
    return ServiceRow(
        store_code=store.code,
        store_name=store.name,
        cases_opened=level.cases_opened,
        within_deadline=Figure.of(level.answered_within_deadline),
        hours_to_first_response=Figure.of(level.median_hours_to_first_response),
        hours_to_resolution=Figure.of(level.median_hours_to_resolution),
        complaint_rate=_scaled(rate, 0.1),
        recovery_rate=Figure.of(level.recovery_rate),
    )


def _scaled(estimate: Estimate, factor: float) -> Figure:
    def scale(v: float | None) -> float | None:
        return None if v is None else v * factor

    return Figure(scale(estimate.value), scale(estimate.low), scale(estimate.high), estimate.n)


def _month_end(period: Period) -> datetime:
    """The instant the month is over in every zone of the chain (UTC-12 is the last)."""
    return datetime.combine(period.end + timedelta(days=1), datetime.min.time(), UTC) + timedelta(
        hours=12
    )


def _count(share: Figure, scale: float) -> int:
    """The k behind a share of n (the service level keeps the share, not its k)."""
    return 0 if share.value is None else round(share.value * share.n / scale)


def _pooled(rows: Sequence[ServiceRow], name: str, scale: float) -> Figure:
    k = sum(_count(getattr(r, name), scale) for r in rows)
    n = sum(getattr(r, name).n for r in rows)
    if n == 0:
        return Figure()
    if k > n:
        return Figure(scale * k / n, None, None, n)
    e = wilson_interval(k, n)
    assert e.value is not None and e.low is not None and e.high is not None
    return Figure(scale * e.value, scale * e.low, scale * e.high, n)


def _service_total(rows: Sequence[ServiceRow]) -> ServiceRow:
    """The region's stores together: counts and shares pooled, no medians."""
    return ServiceRow(
        store_code="",
        store_name="",
        cases_opened=sum(r.cases_opened for r in rows),
        within_deadline=_pooled(rows, "within_deadline", 100),
        hours_to_first_response=Figure(),
        hours_to_resolution=Figure(),
        complaint_rate=_pooled(rows, "complaint_rate", 100),
        recovery_rate=_pooled(rows, "recovery_rate", 100),
    )


# -- (d) mystery results by touchpoint -------------------------------------------------------


def _mystery(session: Session, store_ids: Sequence[int], period: Period) -> MysterySection:
    sections = touchpoints(session, period, store_ids)
    moments = section_moments(session, store_ids, period, [t.key for t in sections])
    overall = sum(score_by_month(session, store_ids, period).values(), Moments())
    return MysterySection(
        visit_score=Figure.of(overall.estimate),
        touchpoints=tuple(
            TouchpointLine(
                t.key, t.title.zh_CN, t.title.en, Figure.of(moments.get(t.key, Moments()).estimate)
            )
            for t in sections
        ),
    )


# -- (f) service stars, (g) coaching, (h) trainings ------------------------------------------


def _stars(
    session: Session, store_ids: Sequence[int], month: date, ranking: MonthRanking
) -> tuple[str, tuple[StarLine, ...]]:
    """The month's service stars: approved in a published award cycle; before that, the
    staff the ranking proposes (HR has not decided yet)."""
    cycle = session.scalar(select(AwardCycle).where(AwardCycle.month == month))
    state = "none" if cycle is None else cycle.state
    if cycle is not None and cycle.state in (CycleState.PUBLISHED, CycleState.FINAL):
        rows = session.execute(
            select(Staff.code, Staff.name, Store.code)
            .join(Nomination, Nomination.staff_id == Staff.id)
            .join(Store, Store.id == Staff.store_id)
            .where(
                Nomination.cycle_id == cycle.id,
                Nomination.state == NominationState.APPROVED,
                Staff.store_id.in_(list(store_ids)),
            )
            .order_by(Store.code, Staff.code)
        ).all()
        return state, tuple(StarLine(code, name, store, "awarded") for code, name, store in rows)
    proposed = sorted(
        (r for r in ranking.rows if r.score.proposed and r.staff.store_id in store_ids),
        key=lambda r: (r.score.rank or 0, r.staff.store_code, r.staff.code),
    )
    return state, tuple(
        StarLine(r.staff.code, r.staff.name, r.staff.store_code, "proposed") for r in proposed
    )


def _coaching(ranking: MonthRanking, store_ids: Sequence[int]) -> tuple[CoachingLine, ...]:
    # The coaching list's own rule, limited to the scope.
    return tuple(
        CoachingLine(
            staff_code=row.ranked.staff.code,
            staff_name=row.ranked.staff.name,
            store_code=row.ranked.staff.store_code,
            composite=row.ranked.score.composite,
            q10=row.ranked.score.q10,
            q90=row.ranked.score.q90,
            pulling_down=tuple(c.name for c in row.pulling_down),
        )
        for row in coaching_list(ranking, set(store_ids))
    )


def _trainings(session: Session, store_ids: Sequence[int], month: date) -> tuple[TrainingLine, ...]:
    """Trainings done in the last `TRAINING_MONTHS` months up to the month's end, and those
    whose weeks after closed in those months, with their effect where it can be told."""
    first, end = months_ending(month, TRAINING_MONTHS)[0], next_month(month)
    effects = {
        e.training_id: e for e in training_effects_for_review(session, store_ids, first, end)
    }
    done = list_trainings(session, store_ids, states=(TrainingState.DONE,))
    listed = sorted(
        (t for t in done if t.id in effects or first <= t.trained_on < end),
        key=lambda t: (t.trained_on, t.store_code, t.staff_code),
    )
    lines = []
    for t in listed:
        line = TrainingLine(
            t.staff_code, t.staff_name, t.store_code, t.topic, t.touchpoint, t.trained_on
        )
        effect = effects.get(t.id)
        if effect is not None:
            line = replace(
                line,
                verdict=effect.words,
                nps_effect=None if effect.nps is None else Figure.of(effect.nps),
                csat_effect=None if effect.csat is None else Figure.of(effect.csat),
                person_before=effect.person_before,
                person_after=effect.person_after,
                peers_before=effect.peers_before,
                peers_after=effect.peers_after,
            )
        lines.append(line)
    return tuple(lines)
