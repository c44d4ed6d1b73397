"""Reads for the home pages: small SQL aggregates returned as dataclasses, scoped to what
the user may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from portal.access import scope_to_user
from portal.models import Receipt, Response, Staff, Store, User


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
    """Per visible store: active staff, receipts issued and responses since ``since``."""
    staff = (
        select(Staff.store_id, func.count().label("n"))
        .where(Staff.active.is_(True))
        .group_by(Staff.store_id)
        .subquery()
    )
    receipts = (
        select(Receipt.store_id, func.count().label("n"))
        .where(Receipt.issued_at >= since)
        .group_by(Receipt.store_id)
        .subquery()
    )
    responses = (
        select(
            Response.store_id,
            func.count().label("n"),
            func.max(Response.submitted_at).label("last"),
        )
        .where(Response.submitted_at >= since)
        .group_by(Response.store_id)
        .subquery()
    )
    stmt = (
        select(
            Store.code,
            Store.name,
            Store.region,
            func.coalesce(staff.c.n, 0),
            func.coalesce(receipts.c.n, 0),
            func.coalesce(responses.c.n, 0),
            responses.c.last,
        )
        .outerjoin(staff, staff.c.store_id == Store.id)
        .outerjoin(receipts, receipts.c.store_id == Store.id)
        .outerjoin(responses, responses.c.store_id == Store.id)
        .order_by(Store.region, Store.code)
    )
    rows = session.execute(scope_to_user(stmt, user, Store.id)).all()
    return [
        StoreActivity(
            code=row[0],
            name=row[1],
            region=row[2],
            active_staff=row[3],
            receipts=row[4],
            responses=row[5],
            last_response_at=row[6],
        )
        for row in rows
    ]


def latest_responses(user: User, *, with_comment_only: bool = False) -> Select[Any]:
    """Newest responses first, of the stores ``user`` may see (paginate the result)."""
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
        .join(Staff, Staff.id == Response.staff_id)
        .order_by(Response.submitted_at.desc(), Response.id.desc())
    )
    if with_comment_only:
        stmt = stmt.where(Response.comment.is_not(None))
    return scope_to_user(stmt, user, Response.store_id)


def as_response_rows(rows: Sequence[Any]) -> list[ResponseRow]:
    return [ResponseRow(*row) for row in rows]


def staff_activity(user: User, since: datetime) -> Select[Any]:
    """Per active staff member: answers received since ``since`` and their raw means."""
    answered = (
        select(
            Response.staff_id,
            func.count().label("n"),
            func.avg(Response.nps).label("nps"),
            func.avg(Response.csat).label("csat"),
        )
        .where(Response.submitted_at >= since)
        .group_by(Response.staff_id)
        .subquery()
    )
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
