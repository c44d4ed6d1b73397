"""The admin's home: each store's activity over the last days and the latest answers, as
small SQL aggregates scoped to what the user may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from portal.access import scope_to_user
from portal.dashboard.channel_split import ChannelMix, counts_in_order
from portal.models import Response, Staff, Store, StoreDailyRollup, User


@dataclass(frozen=True, slots=True)
class StoreActivity:
    code: str
    name: str
    region: str
    active_staff: int
    receipts: int
    responses: int
    last_response_at: datetime | None
    #: Receipts of the window answered, through any channel (the receipt funnel).
    answered: int = 0
    #: The responses of each channel (kiosk and phone answers have no receipt).
    channels: ChannelMix = ChannelMix()

    @property
    def response_rate(self) -> float | None:
        # Answered receipts, not responses: a kiosk or phone answer answers no receipt.
        return min(self.answered, self.receipts) / self.receipts if self.receipts else None


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
            func.sum(StoreDailyRollup.issued_answered).label("answered"),
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
            func.coalesce(counts.c.answered, 0),
            Store.id,
        )
        .outerjoin(staff, staff.c.store_id == Store.id)
        .outerjoin(counts, counts.c.store_id == Store.id)
        .order_by(Store.region, Store.code)
    )
    rows = session.execute(scope_to_user(stmt, user, Store.id)).all()
    by_channel = _responses_by_channel(session, user, since)
    return [
        StoreActivity(
            code=row[0],
            name=row[1],
            region=row[2],
            active_staff=row[3],
            receipts=int(row[4]),
            responses=int(row[5]),
            last_response_at=row[6],
            answered=int(row[7]),
            channels=ChannelMix(counts=counts_in_order(by_channel.get(row[8], {}))),
        )
        for row in rows
    ]


def _responses_by_channel(
    session: Session, user: User, since: datetime
) -> dict[int, dict[str, int]]:
    """Per visible store, its responses of each channel since ``since``'s day."""
    stmt = (
        select(
            StoreDailyRollup.store_id,
            StoreDailyRollup.channel,
            func.sum(StoreDailyRollup.responses),
        )
        .where(StoreDailyRollup.day >= since.date())
        .group_by(StoreDailyRollup.store_id, StoreDailyRollup.channel)
    )
    found: dict[int, dict[str, int]] = {}
    for store_id, channel, n in session.execute(
        scope_to_user(stmt, user, StoreDailyRollup.store_id)
    ).all():
        found.setdefault(store_id, {})[channel] = int(n or 0)
    return found


def latest_responses(user: User, since: datetime) -> Select[Any]:
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
    return scope_to_user(stmt, user, Response.store_id)


def as_response_rows(rows: Sequence[Any]) -> list[ResponseRow]:
    return [ResponseRow(*row) for row in rows]
