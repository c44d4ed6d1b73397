"""The setup checklist of the console home: what is missing before the chain runs by itself.

Five questions, each answered by one grouped query whatever the number of stores: open
stores without active staff, open stores without a live POS key, open stores whose till has
gone quiet, mail that has not gone out, and users who have never signed in. Closed stores
are left out: they issue no receipts and need no till.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import Session

from portal.admin.scope import ConsoleScope
from portal.models import ApiKey, OutboxMessage, Receipt, Staff, Store, User

#: A till with a live key that has printed no receipt for this long has stopped sending.
#: Counted back from now: the same moment in every store's time zone, whatever its day.
QUIET_TILL = timedelta(hours=24)
#: Stores or users named on the page per item; the count says how many there are in all.
SHOWN = 10


@dataclass(frozen=True, slots=True)
class StoreRef:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class UserRef:
    id: int
    email: str
    name: str
    role: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoreItem:
    """Open stores with one gap; ``stores`` holds the first `SHOWN` by code."""

    count: int
    stores: list[StoreRef]


@dataclass(frozen=True, slots=True)
class MailItem:
    pending: int
    failed: int
    #: How long the oldest unsent message has waited; None when everything went out.
    oldest_age: timedelta | None

    @property
    def count(self) -> int:
        return self.pending + self.failed


@dataclass(frozen=True, slots=True)
class UserItem:
    count: int
    users: list[UserRef]


@dataclass(frozen=True, slots=True)
class SetupChecklist:
    without_staff: StoreItem
    without_key: StoreItem
    quiet_tills: StoreItem
    #: Chain-wide items, None for a region manager (mail and accounts are not a region's).
    unsent_mail: MailItem | None
    never_signed_in: UserItem | None

    @property
    def open_items(self) -> int:
        counts = [self.without_staff.count, self.without_key.count, self.quiet_tills.count]
        if self.unsent_mail is not None:
            counts.append(self.unsent_mail.count)
        if self.never_signed_in is not None:
            counts.append(self.never_signed_in.count)
        return sum(1 for count in counts if count)


def _live_key(since: datetime | None = None) -> ColumnElement[bool]:
    conditions = [ApiKey.store_id == Store.id, ApiKey.revoked_at.is_(None)]
    if since is not None:
        conditions.append(ApiKey.created_at <= since)
    return exists(select(ApiKey.id).where(*conditions))


def _open_stores_where(
    session: Session, scope: ConsoleScope, condition: ColumnElement[bool]
) -> StoreItem:
    stmt = (
        select(Store.code, Store.name)
        .where(
            Store.closed_at.is_(None),
            Store.id.in_(scope.store_ids().scalar_subquery()),
            condition,
        )
        .order_by(Store.code)
    )
    rows = session.execute(stmt).all()
    return StoreItem(len(rows), [StoreRef(code, name) for code, name in rows[:SHOWN]])


def get_setup_checklist(session: Session, scope: ConsoleScope, now: datetime) -> SetupChecklist:
    """The checklist for ``scope`` at ``now``: five queries at most, none per store."""
    active_staff = exists(select(Staff.id).where(Staff.store_id == Store.id, Staff.active))
    cutoff = now - QUIET_TILL
    # The index on (store_id, issued_at) answers this per store without reading receipts.
    recent_receipt = exists(
        select(Receipt.id).where(Receipt.store_id == Store.id, Receipt.issued_at >= cutoff)
    )
    # A key made in the last day has not had a day to send: a store just set up is not
    # reported as a till that stopped.
    quiet = and_(_live_key(since=cutoff), ~recent_receipt)
    chain_wide = scope.region is None
    return SetupChecklist(
        without_staff=_open_stores_where(session, scope, ~active_staff),
        without_key=_open_stores_where(session, scope, ~_live_key()),
        quiet_tills=_open_stores_where(session, scope, quiet),
        unsent_mail=_unsent_mail(session, now) if chain_wide else None,
        never_signed_in=_never_signed_in(session) if chain_wide else None,
    )


def _unsent_mail(session: Session, now: datetime) -> MailItem:
    failed = OutboxMessage.error.is_not(None)
    pending_count, failed_count, oldest = session.execute(
        select(
            func.count().filter(~failed),
            func.count().filter(failed),
            func.min(OutboxMessage.created_at),
        ).where(OutboxMessage.sent_at.is_(None))
    ).one()
    return MailItem(pending_count, failed_count, None if oldest is None else now - oldest)


def _never_signed_in(session: Session) -> UserItem:
    # Switched-off accounts are not waiting for anyone: they are left out.
    waiting = (User.active.is_(True), User.last_login_at.is_(None))
    count = session.scalar(select(func.count()).select_from(User).where(*waiting)) or 0
    users = session.scalars(select(User).where(*waiting).order_by(User.created_at).limit(SHOWN))
    return UserItem(count, [UserRef(u.id, u.email, u.name, u.role, u.created_at) for u in users])
