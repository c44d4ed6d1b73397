"""Who may use the admin console, and over which stores.

Admins run the whole chain. A manager with a region scope (`User.region`) sees the
console of that region's stores read-only: the setup checklist, the POS keys and the audit
log of those stores, without the forms that change anything. Everyone else gets a 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal.errors import NotFound
from portal.models import Role, Store, User


@dataclass(frozen=True, slots=True)
class ConsoleScope:
    """What a console user sees: every store (``region`` None) or one region's, and
    whether they may change anything."""

    editable: bool
    region: str | None = None

    def store_ids(self) -> Select[tuple[int]]:
        """The ids of the stores in scope, as a SELECT usable as a subquery."""
        stmt = select(Store.id)
        return stmt if self.region is None else stmt.where(Store.region == self.region)


def console_scope(user: User) -> ConsoleScope:
    """The console scope of ``user``; 403 for a user who has none."""
    if user.role == Role.ADMIN:
        return ConsoleScope(editable=True)
    if user.role == Role.MANAGER and user.region:
        return ConsoleScope(editable=False, region=user.region)
    abort(403)


def get_store_in_scope(session: Session, scope: ConsoleScope, code: str) -> Store:
    """The store with this code, when it is in scope.

    Raises
    ------
    NotFound
        No such store, or one outside the scope (the same answer, so a region manager
        learns nothing about other regions' codes).
    """
    store = session.scalar(
        select(Store).where(Store.code == code, Store.id.in_(scope.store_ids().scalar_subquery()))
    )
    if store is None:
        raise NotFound(_l("No such store."))
    return store


def list_stores_in_scope(session: Session, scope: ConsoleScope) -> list[Store]:
    """The stores in scope, by code."""
    stmt = select(Store).where(Store.id.in_(scope.store_ids().scalar_subquery()))
    return list(session.scalars(stmt.order_by(Store.code)))
