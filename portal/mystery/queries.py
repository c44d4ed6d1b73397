"""Reads for the mystery workflow pages: which visits a user may open (the one place that
decides it), the visit lists, and the people a form offers (active shoppers, a store's
staff). The reports' aggregates are in `portal.mystery.reports`.
"""

from __future__ import annotations

from collections.abc import Collection

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from portal.access import CHAIN_WIDE, visible_store_ids
from portal.errors import NotFound
from portal.models import RELEASED_STATES, MysteryVisit, Role, Staff, Store, User


def visible_visits(user: User) -> Select[tuple[MysteryVisit]]:
    """The visits ``user`` may open: the one place that decides it.

    A shopper sees only their own assignments; a store manager only released reports of
    their stores; HR released reports chain-wide; reviewers and admins everything.
    """
    stmt = select(MysteryVisit)
    if user.role == Role.MYSTERY:
        return stmt.where(MysteryVisit.shopper_id == user.id)
    if user.role in (Role.ADMIN, Role.REVIEWER):
        return stmt
    released = MysteryVisit.state.in_(sorted(RELEASED_STATES))
    if user.role in CHAIN_WIDE:
        return stmt.where(released)
    return stmt.where(
        released, MysteryVisit.store_id.in_(visible_store_ids(user).scalar_subquery())
    )


def get_visit(session: Session, visit_id: int, *, visible_to: User) -> MysteryVisit:
    """A visit by id if ``visible_to`` may see it.

    Raises
    ------
    NotFound
        No such visit, or one the user may not see (one answer for both).
    """
    visit = session.scalar(visible_visits(visible_to).where(MysteryVisit.id == visit_id))
    if visit is None:
        raise NotFound(_l("No such visit."))
    return visit


def visit_list(
    user: User, *, store_code: str | None, states: Collection[str]
) -> Select[tuple[MysteryVisit]]:
    """The visits ``user`` may open, of one store and in ``states`` when given: a shopper's
    by the last day of their window, latest first; everyone else's newest first."""
    stmt = visible_visits(user).options(
        joinedload(MysteryVisit.store), joinedload(MysteryVisit.shopper)
    )
    if store_code:
        stmt = stmt.where(MysteryVisit.store.has(Store.code == store_code))
    if states:
        stmt = stmt.where(MysteryVisit.state.in_(states))
    if user.role == Role.MYSTERY:
        return stmt.order_by(MysteryVisit.window_end.desc(), MysteryVisit.id.desc())
    return stmt.order_by(MysteryVisit.id.desc())


def active_shoppers(session: Session) -> list[User]:
    """The mystery shoppers a visit may be assigned to, by e-mail."""
    stmt = select(User).where(User.role == Role.MYSTERY, User.active.is_(True)).order_by(User.email)
    return list(session.scalars(stmt))


def serving_staff(session: Session, store_id: int) -> list[Staff]:
    """The active staff of a store, by name: who may have served a shopper there."""
    stmt = (
        select(Staff).where(Staff.store_id == store_id, Staff.active.is_(True)).order_by(Staff.name)
    )
    return list(session.scalars(stmt))
