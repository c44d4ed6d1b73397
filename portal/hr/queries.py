"""Reads for the HR pages: the month's ranking table of one award group with movement
against last month, one person's figures and how their composite was computed, their
12-month trend, the comments on their receipts, and the coaching list.

Everything is scored by `portal.hr.ranking` (chain-wide, as the award is computed); these
functions only choose, order and explain rows, restricted to the stores a user may see
(the ids come from `portal.access.visible_store_ids`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from analysis.ranking import Z90, Component, RankingParameters, StaffScore
from portal.access import visible_store_ids
from portal.ballot.holds import counts_in_rankings
from portal.calendar import months_ending, next_month, previous_month
from portal.hr.ranking import (
    MonthRanking,
    RankedStaff,
    person_months,
    rank_month,
    rank_months,
)
from portal.models import AwardScope, RankingPolicy, Response, Staff, Store, User

TREND_MONTHS = 12
#: Component names in the order the pages show them.
COMPONENTS = ("customer", "nps", "mystery", "complaints")


# --------------------------------------------------------------------------- groups


@dataclass(frozen=True, slots=True)
class GroupChoice:
    """One award group the user may pick: the ``key`` of the URL and its label."""

    key: str
    label: str


def visible_ids(session: Session, user: User) -> set[int]:
    return set(session.scalars(visible_store_ids(user)))


def group_choices(session: Session, store_ids: Collection[int], scope: str) -> list[GroupChoice]:
    """The groups of ``scope`` that hold one of ``store_ids``: regions by name, stores by
    code, or the one chain."""
    if scope == AwardScope.CHAIN:
        return [GroupChoice("", "")]
    stores = session.execute(
        select(Store.code, Store.name, Store.region)
        .where(Store.id.in_(sorted(store_ids)))
        .order_by(Store.region, Store.code)
    ).all()
    if scope == AwardScope.STORE:
        return [GroupChoice(code, f"{code} {name}") for code, name, _ in stores]
    regions = sorted({region or "-" for _, _, region in stores})
    return [GroupChoice(region, region) for region in regions]


def group_for(scope: str, key: str) -> str:
    """The ranking's group name for a picked key (see `portal.hr.ranking.group_of`)."""
    if scope == AwardScope.CHAIN:
        return "chain"
    return f"{'store' if scope == AwardScope.STORE else 'region'}:{key}"


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True, slots=True)
class Movement:
    """Against last month's rank in the same group: ``up``/``down`` by ``places``,
    ``same``, ``new`` (not ranked last month) or ``none`` (not ranked this month)."""

    kind: str
    places: int = 0


@dataclass(frozen=True, slots=True)
class TableRow:
    ranked: RankedStaff
    movement: Movement
    #: Why not eligible, one key each (too_few_answers, substantiated_complaint, ...).
    reasons: tuple[str, ...]
    #: The top-10 % line is drawn under this row: the last proposed one.
    top_line: bool


@dataclass(frozen=True, slots=True)
class RankingTable:
    month: MonthRanking
    group: str
    rows: tuple[TableRow, ...]
    #: Eligible staff of the whole group and how many are proposed from them.
    eligible: int
    proposed: int
    #: Staff of the group ranked (enough data) last month.
    previous_ranked: int


def reasons_of(score: StaffScore) -> tuple[str, ...]:
    """The ineligibility reasons one by one (an excluded reason may join several)."""
    found: list[str] = []
    for reason in score.ineligible_reasons:
        found.extend(part for part in reason.split(",") if part and part not in found)
    return tuple(found)


def _order(row: RankedStaff) -> tuple[int, int, int, str]:
    # Ranked first by rank; then the unranked, most data first.
    score = row.score
    return (score.rank is None, score.rank or 0, -score.n, row.staff.code)


def _movement(rank: int | None, before: int | None) -> Movement:
    if rank is None:
        return Movement("none")
    if before is None:
        return Movement("new")
    if before == rank:
        return Movement("same")
    return Movement("up" if before > rank else "down", abs(before - rank))


def ranking_table(
    session: Session,
    month: date,
    *,
    scope: str,
    group: str,
    store_ids: Collection[int],
    parameters: RankingParameters,
) -> RankingTable:
    """The month's ranking of one award group, restricted to ``store_ids``, with each
    person's movement against last month's rank in the same group."""
    current = rank_month(session, month, scope=scope, parameters=parameters)
    # Ranks do not depend on the award gates: last month is ranked without them.
    (before,) = rank_months(
        session,
        [previous_month(current.month)],
        scope=scope,
        parameters=replace(parameters, draws=1),
        gates=False,
    )
    previous = {
        r.staff.staff_id: r.score.rank
        for r in before.rows
        if r.score.group == group and r.score.rank is not None
    }
    in_group = [r for r in current.rows if r.score.group == group]
    shown = sorted((r for r in in_group if r.staff.store_id in store_ids), key=_order)
    last_proposed = max((i for i, r in enumerate(shown) if r.score.proposed), default=-1)
    rows = tuple(
        TableRow(
            ranked=r,
            movement=_movement(r.score.rank, previous.get(r.staff.staff_id)),
            reasons=reasons_of(r.score),
            top_line=i == last_proposed,
        )
        for i, r in enumerate(shown)
    )
    return RankingTable(
        month=current,
        group=group,
        rows=rows,
        eligible=sum(r.score.eligible for r in in_group),
        proposed=sum(r.score.proposed for r in in_group),
        previous_ranked=len(previous),
    )


# --------------------------------------------------------------------------- one person


def get_visible_staff(session: Session, user: User, staff_id: int) -> tuple[Staff, Store] | None:
    """The staff member and their store, if ``user`` may see that store."""
    row = session.execute(
        select(Staff, Store)
        .join(Store, Store.id == Staff.store_id)
        .where(
            Staff.id == staff_id,
            Staff.store_id.in_(visible_store_ids(user).scalar_subquery()),
        )
    ).first()
    return None if row is None else (row[0], row[1])


@dataclass(frozen=True, slots=True)
class CompositePart:
    """One slot of the composite as it was computed: the component that filled it, its
    weight (normalised), the chain mean and between-staff SD tau it was put on the z scale
    with, z (oriented: higher is better), z's SD and the contribution w z."""

    slot: str
    component: Component
    weight: float
    chain_mean: float
    tau: float
    z: float
    z_sd: float
    contribution: float


@dataclass(frozen=True, slots=True)
class Explanation:
    parts: tuple[CompositePart, ...]
    composite: float
    sd: float
    q10: float
    q90: float
    z90: float
    m: float
    m_source: str


def explain(month: MonthRanking, person: RankedStaff) -> Explanation:
    """How ``person``'s composite was computed: Q = sum w_k z_k, SD(Q)^2 = sum w_k^2
    (SD_k/tau_k)^2, Q10/Q90 = Q -/+ 1.2816 SD(Q) (the normal bound of `analysis.ranking`)."""
    score = person.score
    scales = {s.name: s for s in month.ranking.scales}
    parts = []
    for slot, name in (
        ("customer", score.customer_signal),
        ("mystery", "mystery"),
        ("complaints", "complaints"),
    ):
        component: Component = getattr(score, name)
        scale = scales[name]
        weight = scales[slot].weight
        z_sd = component.sd / scale.tau if scale.available and scale.tau > 0 else 0.0
        parts.append(
            CompositePart(
                slot=slot,
                component=component,
                weight=weight,
                chain_mean=scale.chain_mean if scale.available else math.nan,
                tau=scale.tau if scale.available else math.nan,
                z=component.z,
                z_sd=0.0 if math.isnan(z_sd) else z_sd,
                contribution=weight * component.z,
            )
        )
    return Explanation(
        parts=tuple(parts),
        composite=score.composite,
        sd=(score.composite - score.q10) / Z90,
        q10=score.q10,
        q90=score.q90,
        z90=Z90,
        m=month.ranking.m,
        m_source=month.ranking.m_source,
    )


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One month of a person's trend: the composite with its Q10-Q90 band, their n on the
    customer signal, their rank in the group (``None`` when not ranked) and the number of
    ranked staff in it; ``composite`` is ``None`` when they were not on the staff list."""

    month: date
    composite: float | None
    q10: float | None
    q90: float | None
    n: int
    rank: int | None
    ranked: int
    greyed: bool


def staff_trend(
    session: Session,
    staff_id: int,
    month: date,
    *,
    scope: str,
    parameters: RankingParameters,
    months: int = TREND_MONTHS,
) -> list[TrendPoint]:
    """The last ``months`` months up to ``month``, each ranked chain-wide as its own month
    (one scan of the staff-month rollup for all of them; no award gates, no P(top) draws:
    neither changes a score or a rank). Months that are over are read from their stored
    rankings (`portal.hr.stored`), only the person's row of each."""
    points = []
    for when, point in person_months(
        session,
        staff_id,
        months_ending(month, months),
        scope=scope,
        parameters=replace(parameters, draws=1),
    ):
        # With no answers of their own a person's score is only their store's average: a
        # gap in the trend, not a point.
        if point is None or point.n == 0:
            points.append(TrendPoint(when, None, None, None, 0, None, 0, True))
            continue
        points.append(
            TrendPoint(
                when,
                point.composite,
                point.q10,
                point.q90,
                point.n,
                point.rank,
                point.group_ranked,
                point.greyed,
            )
        )
    return points


def staff_comments(
    staff_id: int, month: date
) -> Select[tuple[datetime, int, int, str | None, str | None]]:
    """The month's answers on ``staff_id``'s receipts that carry a comment, newest first:
    when, the two scores, the problem category and the text. Never the shopper's contact
    (that lives in ``response_contacts``, which this does not read), nor an answer held
    out of the ranking as suspected ballot stuffing."""
    start, end = month, next_month(month)
    return (
        select(
            Response.submitted_at,
            Response.nps,
            Response.csat,
            Response.problem_category,
            Response.comment,
        )
        .where(
            Response.staff_id == staff_id,
            Response.local_day >= start,
            Response.local_day < end,
            Response.comment.is_not(None),
            Response.comment != "",
            counts_in_rankings(Response.id),
        )
        .order_by(Response.submitted_at.desc(), Response.id.desc())
    )


# --------------------------------------------------------------------------- coaching


@dataclass(frozen=True, slots=True)
class CoachingRow:
    ranked: RankedStaff
    #: The components pulling the composite down, worst first.
    pulling_down: tuple[Component, ...]


def list_policies(session: Session) -> list[RankingPolicy]:
    """Every ranking policy HR has saved, the one in force first."""
    return list(session.scalars(select(RankingPolicy).order_by(RankingPolicy.id.desc())))


def coaching_list(month: MonthRanking, store_ids: Collection[int]) -> list[CoachingRow]:
    """Staff of ``store_ids`` whose optimistic bound Q90 is below the baseline, lowest Q90
    first, with the components that pull them down."""
    rows = [r for r in month.rows if r.score.coaching and r.staff.store_id in store_ids]
    rows.sort(key=lambda r: (r.score.q90, r.staff.store_code, r.staff.code))
    return [
        CoachingRow(r, tuple(getattr(r.score, name) for name in r.score.pulling_down)) for r in rows
    ]


def components_of(score: StaffScore) -> Sequence[Component]:
    return tuple(getattr(score, name) for name in COMPONENTS)
