"""The staff ranking of one month, read from the database and scored by `analysis.ranking`.

Signals (reference §3.2), each aggregated in SQL over the month:

* customer answers attributed through the receipt's staff code, from the staff-day rollup
  (satisfaction 4–5 of all satisfaction answers; NPS counts; receipts issued = transactions),
  of the answer channels the policy allows (`RankingPolicy.channels`, by default the
  receipt's QR code and its typed code: a kiosk, paper or phone answer does not move a
  cashier's rank unless HR adds its channel), less the answers held out as suspected
  ballot stuffing (`portal.ballot.holds`: flagged and not cleared by a reviewer), read from
  those few answers themselves. Receipts issued and answered (the invitation funnel) count
  whichever channel answered;
* released mystery observations of that person (visits released, disputed or final, by
  visit day);
* substantiated complaint cases against them, by the day (China time) they were resolved.

Exclusions from the award (never from the table): a substantiated complaint in the month
or one not yet closed; answers flagged as suspicious by the invitation-funnel check (a
response rate or promoter share credibly above the rest of the store: the sign of a
survey handed only to happy customers).

Several consecutive months are read with one statement per signal (`rank_months`), so a
staff member's 12-month trend costs one scan of the rollup, not twelve. The exclusions
change who is proposed but never a score or a rank, so the trend and last month's ranks
(movement) skip them (``gates=False``): the funnel check is the slowest part of a month.

The ranking policy (weights, thresholds, award scope, channels) lives in
`portal.hr.policy`; its names are importable from here too.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, astuple, dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import reduce
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from analysis.funnel import StaffFunnel, funnel_outliers
from analysis.ranking import (
    TOO_FEW_ANSWERS,
    Ranking,
    RankingParameters,
    StaffInput,
    StaffScore,
    rank_staff,
)
from analysis.results import NpsCounts
from portal.ballot.holds import held_out
from portal.calendar import local_midnight, local_today, month_start, next_month
from portal.channels import channel_condition
from portal.hr.policy import DEFAULT_CHANNELS as DEFAULT_CHANNELS
from portal.hr.policy import DEFAULT_POLICY as DEFAULT_POLICY
from portal.hr.policy import PolicyValues as PolicyValues
from portal.hr.policy import current_policy as current_policy
from portal.hr.policy import parameters_of as parameters_of
from portal.hr.policy import policy_channels as policy_channels
from portal.hr.policy import set_policy as set_policy
from portal.models import (
    RELEASED_STATES,
    AwardScope,
    Case,
    CaseState,
    DailyRollup,
    MysteryVisit,
    Receipt,
    Response,
    Staff,
    StaffObservation,
    Store,
)


class IneligibleReason(StrEnum):
    """Every reason a person is not eligible for the award: the ranking's own (too few
    answers) and the gates this module adds. `portal.hr.words` says each in words."""

    TOO_FEW_ANSWERS = TOO_FEW_ANSWERS
    SUBSTANTIATED_COMPLAINT = "substantiated_complaint"
    FLAGGED_ANSWERS = "flagged_answers"


SUBSTANTIATED_COMPLAINT = IneligibleReason.SUBSTANTIATED_COMPLAINT
FLAGGED_ANSWERS = IneligibleReason.FLAGGED_ANSWERS


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class StaffRow:
    """Who a ranked person is (for display; the ranking itself works on ids)."""

    staff_id: int
    code: str
    name: str
    position: str
    store_id: int
    store_code: str
    store_name: str
    region: str


@dataclass(frozen=True, slots=True)
class RankedStaff:
    staff: StaffRow
    score: StaffScore
    #: Their inputs (answers, visits, complaints): what the figures were computed from.
    data: StaffInput


@dataclass(frozen=True, slots=True)
class MonthRanking:
    month: date
    scope: str
    ranking: Ranking
    rows: tuple[RankedStaff, ...]
    #: SHA-256 over every input row, in staff order: what a snapshot was computed from.
    input_digest: str
    #: Whether the award gates (complaints, flagged answers) were applied: without them
    #: scores and ranks are the same, but nobody is excluded from a proposal.
    gated: bool = True

    def for_staff(self, staff_id: int) -> RankedStaff | None:
        return next((row for row in self.rows if row.staff.staff_id == staff_id), None)


def group_of(scope: str, region: str, store_code: str) -> str:
    """The award group a person competes in: their region, their store, or the chain."""
    if scope == AwardScope.STORE:
        return f"store:{store_code}"
    if scope == AwardScope.CHAIN:
        return "chain"
    return f"region:{region or '-'}"


@dataclass(frozen=True, slots=True)
class CustomerMonth:
    """One person's customer answers and receipts in the month (from the rollup)."""

    satisfied: int
    rated: int
    promoters: int
    passives: int
    detractors: int
    issued: int
    answered: int

    def without(self, held: CustomerMonth) -> CustomerMonth:
        """These counts less ``held`` (answers held out as suspected ballot stuffing)."""
        pairs = zip(astuple(self), astuple(held), strict=True)
        return CustomerMonth(*(max(0, a - b) for a, b in pairs))


NO_ANSWERS = CustomerMonth(0, 0, 0, 0, 0, 0, 0)


# --------------------------------------------------------------------------- reading


@dataclass(slots=True)
class _Signals:
    """The months' signals keyed by (staff id, month index)."""

    customer: dict[tuple[int, int], CustomerMonth]
    mystery: dict[tuple[int, int], list[float]]
    complaints: dict[tuple[int, int], int]
    #: Month index -> staff barred by a substantiated complaint (only with gates).
    barred: dict[int, set[int]]


def _month_index(months: Sequence[date], day: date) -> int | None:
    key = month_start(day)
    return months.index(key) if key in months else None


def _read_signals(
    session: Session, months: Sequence[date], gates: bool, channels: Sequence[str]
) -> _Signals:
    start, end = months[0], next_month(months[-1])
    rollup = DailyRollup
    # One scan for all the months: the month of each rollup day by a CASE over the ranges
    # (portable, and the day index still bounds the scan).
    index = literal(0) if len(months) == 1 else _month_case(rollup.day, months)
    month_col = index.label("month")
    counted = channel_condition(rollup.channel, channels)

    def answers(expression: Any) -> Any:
        # Answers count only from the policy's channels; the funnel (issued, answered)
        # whichever channel answered.
        return func.sum(case((counted, expression), else_=0))

    customer: dict[tuple[int, int], CustomerMonth] = {}
    for row in session.execute(
        select(
            rollup.staff_key,
            month_col,
            answers(_added(rollup, "csat_4", "csat_5")),
            answers(_added(rollup, *(f"csat_{score}" for score in range(1, 6)))),
            answers(_added(rollup, "nps_9", "nps_10")),
            answers(_added(rollup, "nps_7", "nps_8")),
            answers(_added(rollup, *(f"nps_{score}" for score in range(7)))),
            func.sum(rollup.issued),
            func.sum(rollup.issued_answered),
        )
        .where(rollup.staff_key != 0, rollup.day >= start, rollup.day < end)
        .group_by(rollup.staff_key, *([month_col] if len(months) > 1 else []))
    ):
        customer[(int(row[0]), int(row[1]))] = CustomerMonth(*(int(v or 0) for v in row[2:]))
    for key, held in _held_answers(session, months, channels).items():
        if key in customer:
            customer[key] = customer[key].without(held)

    mystery: dict[tuple[int, int], list[float]] = defaultdict(list)
    for staff_id, day, score in session.execute(
        select(StaffObservation.staff_id, StaffObservation.visit_day, StaffObservation.score)
        .join(MysteryVisit, MysteryVisit.id == StaffObservation.visit_id)
        .where(
            MysteryVisit.state.in_(sorted(RELEASED_STATES)),
            StaffObservation.visit_day >= start,
            StaffObservation.visit_day < end,
        )
        .order_by(StaffObservation.staff_id, StaffObservation.id)
    ):
        i = _month_index(months, day)
        if i is not None:
            mystery[(staff_id, i)].append(float(score))

    # Substantiated cases resolved before the last month ends: counted in the month they
    # were resolved (China time); with gates, an unclosed one bars every month from its
    # resolution on.
    complaints: dict[tuple[int, int], int] = defaultdict(int)
    barred: dict[int, set[int]] = defaultdict(set)
    for staff_id, resolved_at, state in session.execute(
        select(Case.staff_id, Case.resolved_at, Case.state).where(
            Case.staff_id.is_not(None),
            Case.substantiated.is_(True),
            Case.resolved_at < local_midnight(end),
            or_(Case.resolved_at >= local_midnight(start), Case.state != CaseState.CLOSED),
        )
    ):
        if resolved_at is None or staff_id is None:
            continue
        resolved_month = month_start(local_today(None, _as_utc(resolved_at)))
        for i, month in enumerate(months):
            if resolved_month == month:
                complaints[(staff_id, i)] += 1
                barred[i].add(staff_id)
            elif gates and resolved_month < month and state != CaseState.CLOSED:
                barred[i].add(staff_id)
    return _Signals(customer, dict(mystery), dict(complaints), dict(barred))


def _added(model: Any, *names: str) -> Any:
    """The sum of some count columns of a row, in SQL."""
    return reduce(operator.add, (getattr(model, name) for name in names))


def _month_case(day: Any, months: Sequence[date]) -> ColumnElement[int]:
    """The index in ``months`` of the month of ``day`` (NULL outside them), in SQL."""
    return case(*((and_(day >= m, day < next_month(m)), i) for i, m in enumerate(months)))


def _held_answers(
    session: Session, months: Sequence[date], channels: Sequence[str]
) -> dict[tuple[int, int], CustomerMonth]:
    """The answers held out of rankings (`portal.ballot.holds`) among the rollup counts,
    by (staff id, month index): counted in the month they were given (when their channel
    is one the ranking counts), and as "answered" in the month of their receipt (any
    channel, as the funnel counts them). Reads only flagged answers."""
    start, end = months[0], next_month(months[-1])
    given_in = _month_case(Response.local_day, months).label("given_in")
    answered_in = _month_case(Receipt.local_day, months).label("answered_in")
    counted = channel_condition(Response.channel, channels).label("counted")
    rows = session.execute(
        select(
            Response.staff_id,
            given_in,
            answered_in,
            counted,
            func.sum(case((Response.csat >= 4, 1), else_=0)),
            func.count(),
            func.sum(case((Response.nps >= 9, 1), else_=0)),
            func.sum(case((Response.nps.between(7, 8), 1), else_=0)),
            func.sum(case((Response.nps <= 6, 1), else_=0)),
        )
        # Outer: a kiosk or phone answer naming a cashier may have no receipt.
        .outerjoin(Receipt, Receipt.id == Response.receipt_id)
        .where(
            held_out(Response.id),
            Response.staff_id.is_not(None),
            or_(
                and_(Response.local_day >= start, Response.local_day < end),
                and_(Receipt.local_day >= start, Receipt.local_day < end),
            ),
        )
        .group_by(Response.staff_id, given_in, answered_in, counted)
    )
    held: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * 7)
    for staff_id, given, answered, in_channels, *counts in rows:
        if given is not None and in_channels:
            for j, value in enumerate(counts):
                held[(int(staff_id), int(given))][j] += int(value or 0)
        if answered is not None:
            held[(int(staff_id), int(answered))][6] += int(counts[1] or 0)
    return {key: CustomerMonth(*values) for key, values in held.items()}


def _as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; the portal stores UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _people(session: Session, with_data: set[int]) -> list[tuple[StaffRow, bool]]:
    """Active staff and anyone with data, as display rows with their active flag (plain
    columns: 4,000 ORM objects cost more than the ranking of a month). Everyone is read
    and filtered here: an IN list of thousands of ids took SQLAlchemy longer to compile
    (130 ms at 4,000 staff) than the database took to answer."""
    return [
        (StaffRow(*row[:8]), bool(row[8]))
        for row in session.execute(
            select(
                Staff.id,
                Staff.code,
                Staff.name,
                Staff.position,
                Store.id,
                Store.code,
                Store.name,
                Store.region,
                Staff.active,
            )
            .join(Store, Store.id == Staff.store_id)
            .order_by(Staff.id)
        )
        if row[8] or row[0] in with_data
    ]


def _by_month(signals: _Signals, count: int) -> list[_Month]:
    months = [_Month({}, {}, {}) for _ in range(count)]
    for (sid, i), data in signals.customer.items():
        months[i].customer[sid] = data
    for (sid, i), scores in signals.mystery.items():
        months[i].mystery[sid] = tuple(scores)
    for (sid, i), c in signals.complaints.items():
        months[i].complaints[sid] = c
    return months


@dataclass(slots=True)
class _Month:
    customer: dict[int, CustomerMonth]
    mystery: dict[int, tuple[float, ...]]
    complaints: dict[int, int]


def _month_inputs(
    people: Sequence[tuple[StaffRow, bool]],
    month: _Month,
    barred: set[int],
    scope: str,
    gates: bool,
) -> tuple[list[StaffRow], list[StaffInput]]:
    in_month = set(month.customer) | set(month.mystery) | set(month.complaints)
    rows = [row for row, active in people if active or row.staff_id in in_month]
    if not gates:
        barred = set()
    flagged = _flagged_staff(rows, month.customer) if gates else set()
    inputs: list[StaffInput] = []
    for row in rows:
        sid = row.staff_id
        data = month.customer.get(sid, NO_ANSWERS)
        reasons = [
            r
            for r, hit in (
                (SUBSTANTIATED_COMPLAINT, sid in barred),
                (FLAGGED_ANSWERS, sid in flagged),
            )
            if hit
        ]
        inputs.append(
            StaffInput(
                staff_id=sid,
                store_id=row.store_id,
                group=group_of(scope, row.region, row.store_code),
                satisfied=data.satisfied,
                rated=data.rated,
                promoters=data.promoters,
                passives=data.passives,
                detractors=data.detractors,
                mystery_scores=month.mystery.get(sid, ()),
                complaints=month.complaints.get(sid, 0),
                transactions=data.issued,
                excluded_reason=",".join(reasons) or None,
            )
        )
    return rows, inputs


def _with_data(signals: _Signals) -> set[int]:
    return (
        {sid for sid, _ in signals.customer}
        | {sid for sid, _ in signals.mystery}
        | {sid for sid, _ in signals.complaints}
    )


def staff_inputs(
    session: Session,
    month: date,
    scope: str,
    *,
    gates: bool = True,
    channels: Sequence[str] | None = None,
) -> tuple[list[StaffRow], list[StaffInput]]:
    """Every active staff member (and anyone with data in the month) with their month's
    signals, in staff id order; answers of ``channels`` (``None``: the policy's)."""
    chosen = _channels_or_policy(session, channels)
    signals = _read_signals(session, [month_start(month)], gates, chosen)
    people = _people(session, _with_data(signals))
    return _month_inputs(
        people, _by_month(signals, 1)[0], signals.barred.get(0, set()), scope, gates
    )


def _flagged_staff(rows: Sequence[StaffRow], customer: dict[int, CustomerMonth]) -> set[int]:
    """Staff whose answers the invitation-funnel check flags, store by store."""
    by_store: dict[int, list[StaffFunnel]] = defaultdict(list)
    for row in rows:
        data = customer.get(row.staff_id)
        if data is None:
            continue
        by_store[row.store_id].append(
            StaffFunnel(
                key=str(row.staff_id),
                issued=data.issued,
                answered=min(data.answered, data.issued),
                nps=NpsCounts(data.promoters, data.passives, data.detractors),
            )
        )
    flagged: set[int] = set()
    for funnels in by_store.values():
        if len(funnels) < 2:
            continue
        flagged.update(int(flag.key) for flag in funnel_outliers(funnels) if flag.flagged)
    return flagged


def input_digest(inputs: Sequence[StaffInput], parameters: RankingParameters) -> str:
    """SHA-256 over the parameters and every input row, in staff order.

    Rows are written as JSON arrays in the field order of `StaffInput` (``asdict`` on 4,000
    rows took half a second of a 1M-response month).
    """
    rows = [
        [
            r.staff_id,
            r.store_id,
            r.group,
            r.satisfied,
            r.rated,
            r.promoters,
            r.passives,
            r.detractors,
            list(r.mystery_scores),
            r.complaints,
            r.transactions,
            r.excluded_reason,
        ]
        for r in sorted(inputs, key=lambda r: r.staff_id)
    ]
    payload = {"parameters": asdict(parameters), "rows": rows}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=list)
    return hashlib.sha256(text.encode()).hexdigest()


def rank_months(
    session: Session,
    months: Sequence[date],
    *,
    scope: str,
    parameters: RankingParameters,
    gates: bool = True,
    channels: Sequence[str] | None = None,
) -> list[MonthRanking]:
    """Score and rank every staff member of the chain for each of ``months`` (consecutive,
    oldest first), reading each signal once for all of them. Without ``gates`` nobody is
    excluded from a proposal (scores and ranks are unchanged; the funnel check is skipped).
    Customer answers count from ``channels`` (``None``: those of the policy in force).
    """
    months = [month_start(m) for m in months]
    for a, b in zip(months, months[1:], strict=False):
        if next_month(a) != b:
            raise ValueError("months must be consecutive, oldest first")
    if not months:
        return []
    signals = _read_signals(session, months, gates, _channels_or_policy(session, channels))
    people = _people(session, _with_data(signals))
    result = []
    for i, (month, data) in enumerate(zip(months, _by_month(signals, len(months)), strict=True)):
        rows, inputs = _month_inputs(people, data, signals.barred.get(i, set()), scope, gates)
        ranking = rank_staff(inputs, parameters)
        ranked = tuple(
            RankedStaff(row, score, data)
            for row, score, data in zip(rows, ranking.scores, inputs, strict=True)
        )
        result.append(
            MonthRanking(
                month=month,
                scope=scope,
                ranking=ranking,
                rows=ranked,
                input_digest=input_digest(inputs, parameters),
                gated=gates,
            )
        )
    return result


def rank_month(
    session: Session,
    month: date,
    *,
    scope: str,
    parameters: RankingParameters,
    channels: Sequence[str] | None = None,
) -> MonthRanking:
    """Score and rank every staff member of the chain for ``month``, counting customer
    answers of ``channels`` (``None``: those of the policy in force)."""
    return rank_months(session, [month], scope=scope, parameters=parameters, channels=channels)[0]


def _channels_or_policy(session: Session, channels: Sequence[str] | None) -> tuple[str, ...]:
    if channels is None:
        channels = policy_channels(current_policy(session))
    if not channels:
        raise ValueError("a ranking counts the answers of at least one channel")
    return tuple(str(channel) for channel in channels)
