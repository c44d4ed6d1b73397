"""Reads for the home pages: small SQL aggregates returned as dataclasses, scoped to what
the user may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Select, cast, func, select
from sqlalchemy.orm import Session

from portal.access import scope_to_user
from portal.models import DailyRollup, Response, Staff, Store, StoreDailyRollup, User


@dataclass(frozen=True, slots=True)
class StoreActivity:
    code: str
    name: str
    region: str
    active_staff: int
    receipts: int
    responses: int
    last_response_at: datetime | None

    @property
    def response_rate(self) -> float | None:
        return self.responses / self.receipts if self.receipts else None


@dataclass(frozen=True, slots=True)
class ResponseRow:
    submitted_at: datetime
    store_code: str
    store_name: str
    staff_name: str
    nps: int
    csat: int
    problem_category: str | None
    comment: str | None


@dataclass(frozen=True, slots=True)
class StaffActivity:
    store_code: str
    staff_code: str
    name: str
    position: str
    responses: int
    mean_nps: float | None
    mean_csat: float | None


def list_store_activity(session: Session, user: User, since: datetime) -> list[StoreActivity]:
    """Per visible store: active staff, receipts issued and responses from the store-day
    rollup since ``since``'s day, and the time of its last response."""
    staff = (
        select(Staff.store_id, func.count().label("n"))
        .where(Staff.active.is_(True))
        .group_by(Staff.store_id)
        .subquery()
    )
    counts = (
        select(
            StoreDailyRollup.store_id,
            func.sum(StoreDailyRollup.issued).label("issued"),
            func.sum(StoreDailyRollup.responses).label("responses"),
        )
        .where(StoreDailyRollup.day >= since.date())
        .group_by(StoreDailyRollup.store_id)
        .subquery()
    )
    # Correlated MAX per store: answered from the (store_id, submitted_at) index.
    last = (
        select(func.max(Response.submitted_at))
        .where(Response.store_id == Store.id)
        .correlate(Store)
        .scalar_subquery()
    )
    stmt = (
        select(
            Store.code,
            Store.name,
            Store.region,
            func.coalesce(staff.c.n, 0),
            func.coalesce(counts.c.issued, 0),
            func.coalesce(counts.c.responses, 0),
            last,
        )
        .outerjoin(staff, staff.c.store_id == Store.id)
        .outerjoin(counts, counts.c.store_id == Store.id)
        .order_by(Store.region, Store.code)
    )
    rows = session.execute(scope_to_user(stmt, user, Store.id)).all()
    return [
        StoreActivity(
            code=row[0],
            name=row[1],
            region=row[2],
            active_staff=row[3],
            receipts=int(row[4]),
            responses=int(row[5]),
            last_response_at=row[6],
        )
        for row in rows
    ]


def latest_responses(
    user: User, since: datetime, *, with_comment_only: bool = False
) -> Select[Any]:
    """Newest responses since ``since`` first, of the stores ``user`` may see (paginate the
    result). The window keeps the page's count query bounded: counting a chain's whole
    history took seconds on a year of answers."""
    stmt = (
        select(
            Response.submitted_at,
            Store.code,
            Store.name,
            Staff.name,
            Response.nps,
            Response.csat,
            Response.problem_category,
            Response.comment,
        )
        .join(Store, Store.id == Response.store_id)
        # Outer: batch-printed cards have no cashier, and their answers count too.
        .outerjoin(Staff, Staff.id == Response.staff_id)
        .where(Response.submitted_at >= since)
        .order_by(Response.submitted_at.desc(), Response.id.desc())
    )
    if with_comment_only:
        stmt = stmt.where(Response.comment.is_not(None))
    return scope_to_user(stmt, user, Response.store_id)


def as_response_rows(rows: Sequence[Any]) -> list[ResponseRow]:
    return [ResponseRow(*row) for row in rows]


def staff_activity(user: User, since: datetime) -> Select[Any]:
    """Per active staff member: answers received since ``since``'s day and their raw means,
    from the staff-day rollup (a chain's month of raw answers took seconds to group)."""
    r = DailyRollup
    nps_total = sum(score * getattr(r, f"nps_{score}") for score in range(1, 11))
    csat_total = sum(score * getattr(r, f"csat_{score}") for score in range(1, 6))
    sums = (
        select(
            r.staff_key,
            func.sum(r.responses).label("n"),
            func.sum(nps_total).label("nps_total"),
            func.sum(csat_total).label("csat_total"),
        )
        .where(r.day >= since.date())
        .group_by(r.staff_key)
        .subquery()
    )
    n = func.nullif(sums.c.n, 0)
    answered = select(
        sums.c.staff_key.label("staff_id"),
        sums.c.n.label("n"),
        (cast(sums.c.nps_total, Float) / n).label("nps"),
        (cast(sums.c.csat_total, Float) / n).label("csat"),
    ).subquery()
    stmt = (
        select(
            Store.code,
            Staff.code,
            Staff.name,
            Staff.position,
            func.coalesce(answered.c.n, 0),
            answered.c.nps,
            answered.c.csat,
        )
        .join(Store, Store.id == Staff.store_id)
        .outerjoin(answered, answered.c.staff_id == Staff.id)
        .where(Staff.active.is_(True))
        .order_by(Store.code, Staff.code)
    )
    return scope_to_user(stmt, user, Staff.store_id)


def as_staff_activity(rows: Sequence[Any]) -> list[StaffActivity]:
    return [
        StaffActivity(
            store_code=r[0],
            staff_code=r[1],
            name=r[2],
            position=r[3],
            responses=r[4],
            mean_nps=None if r[5] is None else float(r[5]),
            mean_csat=None if r[6] is None else float(r[6]),
        )
        for r in rows
    ]


def list_stores(session: Session) -> list[Store]:
    return list(session.scalars(select(Store).order_by(Store.region, Store.code)))
