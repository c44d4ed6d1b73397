"""Reads of the admin console: stores with their staff counts, regions with their store
counts, a store's staff; all scoped by `portal.access` (region managers read their region)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from portal.access import scope_to_user
from portal.models import Region, Role, Staff, Store, User


@dataclass(frozen=True, slots=True)
class RegionRow:
    region: Region
    stores: int


def store_list(user: User, text: str = "", state: str = "") -> Select[Any]:
    """Stores ``user`` may see, with their active staff count, by code; ``text`` is found
    in the code, name, region or address; ``state`` is "open", "closed" or "" (both)."""
    staff = (
        select(func.count(Staff.id))
        .where(Staff.store_id == Store.id, Staff.active.is_(True))
        .correlate(Store)
        .scalar_subquery()
    )
    stmt = select(Store, staff.label("staff")).order_by(Store.code)
    if text:
        stmt = stmt.where(
            or_(
                *(
                    column.icontains(text, autoescape=True)
                    for column in (Store.code, Store.name, Store.region, Store.address)
                )
            )
        )
    if state == "open":
        stmt = stmt.where(Store.closed_at.is_(None))
    elif state == "closed":
        stmt = stmt.where(Store.closed_at.is_not(None))
    return scope_to_user(stmt, user, Store.id)


def console_store(session: Session, user: User, code: str) -> Store | None:
    """The store with this code if ``user`` may see it (one answer for absent and hidden)."""
    store: Store | None = session.scalar(
        scope_to_user(select(Store).where(Store.code == code), user, Store.id)
    )
    return store


def region_rows(session: Session, user: User) -> list[RegionRow]:
    """The regions list with how many stores each has; a region manager sees the regions of
    the stores they see, and their own."""
    count = (
        select(func.count(Store.id)).where(Store.region == Region.name).correlate(Region)
    ).scalar_subquery()
    stmt = select(Region, count).order_by(Region.name)
    if user.role != Role.ADMIN:
        seen = scope_to_user(select(Store.region), user, Store.id)
        stmt = stmt.where(or_(Region.name.in_(seen.scalar_subquery()), Region.name == user.region))
    return [RegionRow(region, int(n)) for region, n in session.execute(stmt)]


def region_names(session: Session) -> list[str]:
    return list(session.scalars(select(Region.name).order_by(Region.name)))


def staff_of(store: Store) -> Select[Any]:
    """A store's staff, active first, by code."""
    return select(Staff).where(Staff.store_id == store.id).order_by(Staff.active.desc(), Staff.code)


def staff_in(session: Session, user: User, staff_id: int) -> Staff | None:
    """The staff member if ``user`` may see their store."""
    staff: Staff | None = session.scalar(
        scope_to_user(select(Staff).where(Staff.id == staff_id), user, Staff.store_id)
    )
    return staff
