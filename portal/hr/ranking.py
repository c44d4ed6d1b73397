"""The staff ranking of one month, read from the database and scored by `analysis.ranking`.

Signals (reference §3.2), each aggregated in SQL over the month:

* customer answers attributed through the receipt's staff code, from the staff-month rollup
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

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import case, func, literal, select
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
from portal.calendar import (
    last_complete_month,
    month_start,
    next_month,
)
from portal.channels import channel_condition
from portal.db import utcnow
from portal.hr import fingerprints, stored
from portal.hr.policy import DEFAULT_CHANNELS as DEFAULT_CHANNELS
from portal.hr.policy import DEFAULT_POLICY as DEFAULT_POLICY
from portal.hr.policy import PolicyValues as PolicyValues
from portal.hr.policy import current_policy as current_policy
from portal.hr.policy import parameters_of as parameters_of
from portal.hr.policy import policy_channels as policy_channels
from portal.hr.policy import set_policy as set_policy
from portal.hr.signals import (
    NO_ANSWERS,
    CustomerMonth,
    added,
    complaint_months,
    held_answers,
    input_digest,
    month_case,
)
from portal.models import (
    RELEASED_STATES,
    AwardScope,
    MysteryVisit,
    Staff,
    StaffMonthlyRollup,
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
    rollup = StaffMonthlyRollup
    # One scan of the staff-month rollup for all the months (4,000 rows a month at 200
    # stores, where the staff-day rollup held 120,000): the month's index by a CASE.
    index = literal(0) if len(months) == 1 else month_case(rollup.month, months)
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
            answers(added(rollup, "csat_4", "csat_5")),
            answers(added(rollup, *(f"csat_{score}" for score in range(1, 6)))),
            answers(added(rollup, "nps_9", "nps_10")),
            answers(added(rollup, "nps_7", "nps_8")),
            answers(added(rollup, *(f"nps_{score}" for score in range(7)))),
            func.sum(rollup.issued),
            func.sum(rollup.issued_answered),
        )
        .where(rollup.staff_key != 0, rollup.month >= start, rollup.month < end)
        .group_by(rollup.staff_key, *([month_col] if len(months) > 1 else []))
    ):
        customer[(int(row[0]), int(row[1]))] = CustomerMonth(*(int(v or 0) for v in row[2:]))
    for key, held in held_answers(session, months, channels).items():
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

    complaints, barred = complaint_months(session, months, gates)
    return _Signals(customer, dict(mystery), complaints, barred)


def _staff_rows(session: Session) -> dict[int, tuple[StaffRow, bool]]:
    """Every staff member as a display row with their active flag, by id (plain columns:
    4,000 ORM objects cost more than the ranking of a month). Everyone is read and
    filtered by the caller: an IN list of thousands of ids took SQLAlchemy longer to
    compile (130 ms at 4,000 staff) than the database took to answer."""
    return {
        row[0]: (StaffRow(*row[:8]), bool(row[8]))
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
    }


def _people(session: Session, with_data: set[int]) -> list[tuple[StaffRow, bool]]:
    """Active staff and anyone with data, in id order."""
    return [
        (row, active)
        for sid, (row, active) in _staff_rows(session).items()
        if active or sid in with_data
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


@dataclass(frozen=True, slots=True)
class _Prepared:
    """The months asked, the channels counted, the last month that is over (it and the
    ones before it are stored once ranked) and the fingerprint of each month that is over
    (`portal.hr.fingerprints`; the months that are over come first)."""

    months: list[date]
    channels: tuple[str, ...]
    gates: bool
    closed: date
    fingerprints: list[str]


@dataclass(frozen=True, slots=True)
class _Read:
    """The inputs of the months ``first`` .. ``first + len(data) - 1``, as read."""

    first: int
    data: list[_Month]
    barred: list[set[int]]
    people: list[tuple[StaffRow, bool]]


def _prepare(
    session: Session,
    months: Sequence[date],
    scope: str,
    parameters: RankingParameters,
    gates: bool,
    channels: Sequence[str] | None,
) -> _Prepared:
    months = [month_start(m) for m in months]
    for a, b in zip(months, months[1:], strict=False):
        if next_month(a) != b:
            raise ValueError("months must be consecutive, oldest first")
    chosen = _channels_or_policy(session, channels)
    closed = last_complete_month(session, utcnow()) if months else date.min
    over = [m for m in months if m <= closed]
    prints = fingerprints.month_fingerprints(
        session, over, scope=scope, gates=gates, channels=chosen, parameters=parameters
    )
    return _Prepared(months, chosen, gates, closed, prints)


def _read(session: Session, prepared: _Prepared, needed: Sequence[int]) -> _Read:
    """The inputs of the months of ``needed`` (indices), read in one go."""
    first, last = min(needed), max(needed)
    months = prepared.months[first : last + 1]
    signals = _read_signals(session, months, prepared.gates, prepared.channels)
    gates = prepared.gates
    return _Read(
        first,
        _by_month(signals, len(months)),
        [signals.barred.get(i, set()) if gates else set() for i in range(len(months))],
        _people(session, _with_data(signals)),
    )


def _ranked(
    session: Session,
    prepared: _Prepared,
    read: _Read,
    i: int,
    scope: str,
    parameters: RankingParameters,
) -> MonthRanking:
    """Month ``i`` ranked from its inputs, and stored when the month is over."""
    month, gates = prepared.months[i], prepared.gates
    rows, inputs = _month_inputs(
        read.people, read.data[i - read.first], read.barred[i - read.first], scope, gates
    )
    ranking = rank_staff(inputs, parameters)
    digest = input_digest(inputs, parameters)
    if month <= prepared.closed:
        stored.save(
            session,
            month,
            scope=scope,
            gated=gates,
            fingerprint=prepared.fingerprints[i],
            ranking=ranking,
            inputs=inputs,
            input_digest=digest,
            now=utcnow(),
        )
    ranked = tuple(
        RankedStaff(row, score, data)
        for row, score, data in zip(rows, ranking.scores, inputs, strict=True)
    )
    return MonthRanking(month, scope, ranking, ranked, digest, gates)


def _read_back(
    session: Session, prepared: _Prepared, i: int, scope: str, parameters: RankingParameters
) -> stored.StoredMonth | None:
    if prepared.months[i] > prepared.closed:
        return None
    return stored.load(
        session,
        prepared.months[i],
        scope=scope,
        gated=prepared.gates,
        fingerprint=prepared.fingerprints[i],
        parameters=parameters,
    )


def _shown(
    prepared: _Prepared,
    i: int,
    month: stored.StoredMonth,
    staff: dict[int, tuple[StaffRow, bool]],
    scope: str,
) -> MonthRanking | None:
    """A stored month with who everyone is (``None`` if someone is no longer on the staff
    list: the fingerprint would have changed, ranked afresh all the same)."""
    if not all(s.staff_id in staff for s in month.ranking.scores):
        return None
    rows = tuple(
        RankedStaff(staff[score.staff_id][0], score, data)
        for score, data in zip(month.ranking.scores, month.inputs, strict=True)
    )
    return MonthRanking(
        prepared.months[i], scope, month.ranking, rows, month.input_digest, prepared.gates
    )


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
    A month that is over is read back from `portal.hr.stored` while its fingerprint is
    unchanged (its inputs are then not read), and stored the first time it is ranked.
    """
    prepared = _prepare(session, months, scope, parameters, gates, channels)
    # A read-back builds some 30,000 objects without cycles: no collection of the heap.
    with stored.collector_paused():
        found = [_read_back(session, prepared, i, scope, parameters) for i in range(len(months))]
        missing = [i for i, month in enumerate(found) if month is None]
        staff = _staff_rows(session) if len(missing) < len(found) else {}
        shown = [
            None if month is None else _shown(prepared, i, month, staff, scope)
            for i, month in enumerate(found)
        ]
    read = _read(session, prepared, missing) if missing else None
    results: list[MonthRanking] = []
    for i, month_ranking in enumerate(shown):
        if month_ranking is not None:
            results.append(month_ranking)
            continue
        if read is None or not read.first <= i < read.first + len(read.data):
            read = _read(session, prepared, [i])
        results.append(_ranked(session, prepared, read, i, scope, parameters))
    return results


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


def person_months(
    session: Session,
    staff_id: int,
    months: Sequence[date],
    *,
    scope: str,
    parameters: RankingParameters,
) -> list[tuple[date, stored.MonthPoint | None]]:
    """``staff_id``'s figures in each of ``months`` ranked without the award gates (as
    `rank_months` would give them; ``None`` when not in that month's ranking). Stored
    months are read as the person's one row (one query for all of them), not as the whole
    ranking; only the others are ranked."""
    prepared = _prepare(session, months, scope, parameters, False, None)
    over = dict(zip(prepared.months, prepared.fingerprints, strict=False))
    found = stored.load_points(session, staff_id, over, scope=scope, gated=False)
    missing = [i for i, month in enumerate(prepared.months) if month not in found]
    read = _read(session, prepared, missing) if missing else None
    points: list[tuple[date, stored.MonthPoint | None]] = []
    for i, month in enumerate(prepared.months):
        if month in found:
            points.append((month, found[month]))
            continue
        assert read is not None
        ranking = _ranked(session, prepared, read, i, scope, parameters)
        person = ranking.for_staff(staff_id)
        points.append(
            (month, None if person is None else stored.point_of(person.score, ranking.ranking))
        )
    return points


def _channels_or_policy(session: Session, channels: Sequence[str] | None) -> tuple[str, ...]:
    if channels is None:
        channels = policy_channels(current_policy(session))
    if not channels:
        raise ValueError("a ranking counts the answers of at least one channel")
    return tuple(str(channel) for channel in channels)
