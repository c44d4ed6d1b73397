"""Reading award cycles: the list with its counts, one cycle's nominations with their
frozen snapshot rows, a store's leaderboard, the event log and the payroll export rows.

Everything a person sees comes from the snapshot, never from today's staff or store
records. Managers see published and final cycles only, and only their own stores' rows
(`portal.access.scope_to_user` on the snapshot's store)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session, selectinload

from analysis.ranking import RankBand, RankingParameters, rank_band
from portal.access import CHAIN_WIDE, scope_to_user
from portal.calendar import month_key, zone
from portal.display_names import user_labels
from portal.errors import NotFound
from portal.hr.ranking import SUBSTANTIATED_COMPLAINT
from portal.models import (
    Appeal,
    AwardCycle,
    AwardEvent,
    CycleState,
    Nomination,
    NominationSource,
    NominationState,
    SnapshotRow,
    Staff,
    User,
)

#: What managers may see: decisions once they are on public notice.
PUBLIC_STATES = (CycleState.PUBLISHED, CycleState.FINAL)


class UnknownCycle(NotFound):
    message = _l("There are no awards for this month.")


def sees_all_stores(user: User) -> bool:
    return user.role in CHAIN_WIDE


def _visible_cycles(user: User) -> Select[tuple[AwardCycle]]:
    stmt = select(AwardCycle)
    if not sees_all_stores(user):
        stmt = stmt.where(AwardCycle.state.in_(PUBLIC_STATES))
    return stmt


def get_cycle(session: Session, month: date, *, visible_to: User) -> AwardCycle:
    """The cycle of ``month`` if ``visible_to`` may see it.

    Raises
    ------
    UnknownCycle
        No cycle for the month, or one in review for a manager (one answer for both).
    """
    cycle = session.scalar(_visible_cycles(visible_to).where(AwardCycle.month == month))
    if cycle is None:
        raise UnknownCycle()
    return cycle


# -- the list ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CycleSummary:
    cycle: AwardCycle
    #: Staff in the snapshot (for a manager: of their stores).
    staff: int
    proposed: int
    manual: int
    pending: int
    approved: int
    rejected: int
    open_appeals: int

    @property
    def key(self) -> str:
        return month_key(self.cycle.month)


def _nominations_with_rows(user: User) -> Select[Any]:
    """Nominations joined to their snapshot rows, scoped to the stores ``user`` sees."""
    stmt = select(Nomination, SnapshotRow).join(
        SnapshotRow,
        and_(
            SnapshotRow.cycle_id == Nomination.cycle_id,
            SnapshotRow.staff_id == Nomination.staff_id,
        ),
    )
    return stmt if sees_all_stores(user) else scope_to_user(stmt, user, SnapshotRow.store_id)


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def list_cycles(session: Session, user: User) -> list[CycleSummary]:
    """Every cycle ``user`` may see, newest month first, with its counts (three grouped
    queries, whatever the number of cycles and staff)."""
    cycles = list(session.scalars(_visible_cycles(user).order_by(AwardCycle.month.desc())))
    if not cycles:
        return []
    ids = [cycle.id for cycle in cycles]
    staff_stmt = select(SnapshotRow.cycle_id, func.count()).where(SnapshotRow.cycle_id.in_(ids))
    if not sees_all_stores(user):
        staff_stmt = scope_to_user(staff_stmt, user, SnapshotRow.store_id)
    staff = dict(session.execute(staff_stmt.group_by(SnapshotRow.cycle_id)).tuples().all())
    counted = (
        _nominations_with_rows(user)
        .with_only_columns(
            Nomination.cycle_id,
            _count(Nomination.source == NominationSource.PROPOSED),
            _count(Nomination.source == NominationSource.MANUAL),
            _count(Nomination.state == NominationState.PENDING),
            _count(Nomination.state == NominationState.APPROVED),
            _count(Nomination.state == NominationState.REJECTED),
        )
        .where(Nomination.cycle_id.in_(ids))
        .group_by(Nomination.cycle_id)
    )
    counts: dict[int, tuple[int, int, int, int, int]] = {
        row[0]: (int(row[1]), int(row[2]), int(row[3]), int(row[4]), int(row[5]))
        for row in session.execute(counted)
    }
    appeals_stmt = (
        _nominations_with_rows(user)
        .with_only_columns(Nomination.cycle_id, func.count(Appeal.id))
        .join(Appeal, Appeal.nomination_id == Nomination.id)
        .where(Nomination.cycle_id.in_(ids), Appeal.answered_at.is_(None))
        .group_by(Nomination.cycle_id)
    )
    appeals = dict(session.execute(appeals_stmt).tuples().all())
    summaries = []
    for cycle in cycles:
        proposed, manual, pending, approved, rejected = counts.get(cycle.id, (0, 0, 0, 0, 0))
        summaries.append(
            CycleSummary(
                cycle=cycle,
                staff=int(staff.get(cycle.id, 0)),
                proposed=proposed,
                manual=manual,
                pending=pending,
                approved=approved,
                rejected=rejected,
                open_appeals=int(appeals.get(cycle.id, 0)),
            )
        )
    return summaries


# -- one cycle -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppealLine:
    appeal: Appeal
    raised_by: str
    answered_by: str | None


@dataclass(frozen=True, slots=True)
class NominationLine:
    """A nomination with what it is judged on: the staff member's frozen snapshot row."""

    nomination: Nomination
    row: SnapshotRow
    created_by: str | None
    decided_by: str | None
    appeals: tuple[AppealLine, ...]

    @property
    def open_appeal(self) -> Appeal | None:
        return next((a.appeal for a in self.appeals if a.appeal.answered_at is None), None)


def list_nominations(session: Session, cycle: AwardCycle, user: User) -> list[NominationLine]:
    """The cycle's nominations ``user`` may see, by award group and rank."""
    stmt = (
        _nominations_with_rows(user)
        .where(Nomination.cycle_id == cycle.id)
        .options(selectinload(Nomination.appeals))
        .order_by(
            SnapshotRow.group,
            SnapshotRow.rank.is_(None),
            SnapshotRow.rank,
            SnapshotRow.staff_code,
            Nomination.id,
        )
    )
    pairs: list[tuple[Nomination, SnapshotRow]] = [
        (nomination, row) for nomination, row in session.execute(stmt).tuples()
    ]
    labels = user_labels(
        session,
        [
            user_id
            for nomination, _row in pairs
            for user_id in (
                nomination.created_by_id,
                nomination.decided_by_id,
                *(a.raised_by_id for a in nomination.appeals),
                *(a.answered_by_id for a in nomination.appeals),
            )
        ],
    )

    def label(user_id: int | None) -> str | None:
        return None if user_id is None else labels.get(user_id, "—")

    return [
        NominationLine(
            nomination=nomination,
            row=row,
            created_by=label(nomination.created_by_id),
            decided_by=label(nomination.decided_by_id),
            appeals=tuple(
                AppealLine(a, label(a.raised_by_id) or "—", label(a.answered_by_id))
                for a in nomination.appeals
            ),
        )
        for nomination, row in pairs
    ]


def get_nomination(
    session: Session, cycle: AwardCycle, nomination_id: int, user: User
) -> NominationLine:
    """One nomination of the cycle that ``user`` may see.

    Raises
    ------
    NotFound
        Not in this cycle, or of a store the user may not see.
    """
    stmt = _nominations_with_rows(user).where(
        Nomination.cycle_id == cycle.id, Nomination.id == nomination_id
    )
    found = session.execute(stmt).tuples().first()
    if found is None:
        raise NotFound(_l("No such nomination."))
    nomination, row = found
    labels = user_labels(session, [nomination.created_by_id, nomination.decided_by_id])
    return NominationLine(
        nomination,
        row,
        labels.get(nomination.created_by_id) if nomination.created_by_id else None,
        labels.get(nomination.decided_by_id) if nomination.decided_by_id else None,
        (),
    )


def get_appeal(session: Session, cycle: AwardCycle, appeal_id: int) -> Appeal:
    """An appeal on a nomination of ``cycle``.

    Raises
    ------
    NotFound
    """
    appeal = session.scalar(
        select(Appeal)
        .join(Nomination, Nomination.id == Appeal.nomination_id)
        .where(Appeal.id == appeal_id, Nomination.cycle_id == cycle.id)
    )
    if appeal is None:
        raise NotFound(_l("No such appeal."))
    return appeal


def list_nominable(session: Session, cycle: AwardCycle) -> list[SnapshotRow]:
    """Snapshot rows HR may still nominate by hand: not nominated yet, and not barred by
    a substantiated complaint. Best ranked first."""
    nominated = select(Nomination.staff_id).where(Nomination.cycle_id == cycle.id)
    rows = session.scalars(
        select(SnapshotRow)
        .where(SnapshotRow.cycle_id == cycle.id, SnapshotRow.staff_id.not_in(nominated))
        .order_by(
            SnapshotRow.group,
            SnapshotRow.rank.is_(None),
            SnapshotRow.rank,
            SnapshotRow.staff_code,
        )
    )
    return [row for row in rows if SUBSTANTIATED_COMPLAINT not in row.reasons]


def get_snapshot_row(session: Session, cycle: AwardCycle, staff_id: int) -> SnapshotRow | None:
    """A staff member's frozen row in the cycle's snapshot, if they are in it."""
    return session.scalar(
        select(SnapshotRow).where(
            SnapshotRow.cycle_id == cycle.id, SnapshotRow.staff_id == staff_id
        )
    )


def get_staff(session: Session, staff_id: int) -> Staff:
    """A staff member by id (the person a nomination form names).

    Raises
    ------
    NotFound
        No such staff member.
    """
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound()
    return staff


def count_pending(session: Session, cycle: AwardCycle) -> int:
    """The cycle's nominations still waiting for a decision."""
    count = session.scalar(
        select(func.count())
        .select_from(Nomination)
        .where(Nomination.cycle_id == cycle.id, Nomination.state == NominationState.PENDING)
    )
    return int(count or 0)


def list_cycle_months(session: Session) -> set[date]:
    """The months that have a cycle, whoever may see it (a month is opened once)."""
    return set(session.scalars(select(AwardCycle.month)))


def list_events(session: Session, cycle: AwardCycle) -> list[AwardEvent]:
    return list(
        session.scalars(
            select(AwardEvent).where(AwardEvent.cycle_id == cycle.id).order_by(AwardEvent.id)
        )
    )


# -- a store's leaderboard -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Standings:
    """Where a frozen rank stands in its award group (`analysis.ranking.rank_band`): the
    number of ranked staff of each group and the award's top share."""

    ranked: dict[str, int]
    top_fraction: float

    def of(self, row: SnapshotRow) -> RankBand | None:
        if row.rank is None:
            return None
        return rank_band(row.rank, max(row.rank, self.ranked.get(row.group, 0)), self.top_fraction)


def standings(session: Session, cycle: AwardCycle) -> Standings:
    """The cycle's ranked staff per award group, counted over the whole snapshot (a band
    is the place in the whole group, whoever the reader may see)."""
    counted = session.execute(
        select(SnapshotRow.group, func.count())
        .where(SnapshotRow.cycle_id == cycle.id, SnapshotRow.rank.is_not(None))
        .group_by(SnapshotRow.group)
    )
    top_fraction = float(cycle.parameters.get("top_fraction", RankingParameters().top_fraction))
    return Standings({group: int(count) for group, count in counted}, top_fraction)


@dataclass(frozen=True, slots=True)
class StoreBoard:
    store_code: str
    store_name: str
    region: str
    #: The store's nominations (the page shows only approved ones once published).
    nominations: tuple[NominationLine, ...]
    #: The store's best ranked staff, by their rank in the award group.
    top: tuple[SnapshotRow, ...]
    staff: int
    #: Staff with too few answers to be ranked.
    unranked: int
    standings: Standings


def store_board(
    session: Session, cycle: AwardCycle, store_code: str, user: User, *, limit: int = 10
) -> StoreBoard:
    """The month's leaderboard of one store, as frozen in the snapshot.

    Raises
    ------
    NotFound
        The store has no row in the snapshot, or ``user`` may not see it.
    """
    stmt = select(SnapshotRow).where(
        SnapshotRow.cycle_id == cycle.id, SnapshotRow.store_code == store_code
    )
    if not sees_all_stores(user):
        stmt = scope_to_user(stmt, user, SnapshotRow.store_id)
    rows = list(
        session.scalars(
            stmt.order_by(SnapshotRow.rank.is_(None), SnapshotRow.rank, SnapshotRow.staff_code)
        )
    )
    if not rows:
        raise NotFound(_l("No such store in this month's awards."))
    staff_ids = {row.staff_id for row in rows}
    nominations = tuple(
        line for line in list_nominations(session, cycle, user) if line.row.staff_id in staff_ids
    )
    ranked = [row for row in rows if row.rank is not None]
    return StoreBoard(
        store_code=rows[0].store_code,
        store_name=rows[0].store_name,
        region=rows[0].region,
        nominations=nominations,
        top=tuple(ranked[:limit]),
        staff=len(rows),
        unranked=len(rows) - len(ranked),
        standings=standings(session, cycle),
    )


# -- the payroll export --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PayrollRow:
    """One nomination of the month as payroll needs it (column names = field names)."""

    month: str
    staff_code: str
    staff_name: str
    store_code: str
    store_name: str
    region: str
    rank: int | None
    composite: float
    decision: str
    decided_at: datetime | None


PAYROLL_COLUMNS = tuple(f.name for f in fields(PayrollRow))


def payroll_rows(session: Session, cycle: AwardCycle, user: User) -> list[PayrollRow]:
    """Every nomination of the cycle, approved first, then by store and staff code, with
    the decision time in the chain's time zone (ISO-8601 with its offset in the files)."""
    chain_zone = zone()
    lines = list_nominations(session, cycle, user)
    order: dict[str, int] = {NominationState.APPROVED: 0, NominationState.REJECTED: 1}
    lines.sort(
        key=lambda line: (
            order.get(line.nomination.state, 2),
            line.row.store_code,
            line.row.staff_code,
        )
    )
    return [
        PayrollRow(
            month=month_key(cycle.month),
            staff_code=line.row.staff_code,
            staff_name=line.row.staff_name,
            store_code=line.row.store_code,
            store_name=line.row.store_name,
            region=line.row.region,
            rank=line.row.rank,
            composite=round(line.row.composite, 4),
            decision=line.nomination.state,
            decided_at=None
            if line.nomination.decided_at is None
            else line.nomination.decided_at.astimezone(chain_zone),
        )
        for line in lines
    ]
