"""Reading what the return-call pages show: the customers of a store waiting for a call, how
many wait in each store a user sees, and the answer or case a call is about. Writes live in
`portal.phone.operations`.

Every read is scoped with `portal.access.scope_to_user`; an answer or case of a store the
user may not see answers as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import Session, joinedload

from portal.access import scope_to_user
from portal.errors import NotFound
from portal.models import (
    Case,
    PhoneOutcome,
    PhoneVisit,
    Response,
    ResponseContact,
    Staff,
    Store,
    User,
)
from portal.pagination import Page, paginate

#: Answers older than this are no longer offered for a call: a return visit follows soon
#: after the feedback, and contact details are kept for a limited time anyway.
RECENT_DAYS = 30
#: Customers per page.
PER_PAGE = 25


@dataclass(frozen=True, slots=True)
class CustomerToCall:
    """One answer whose customer left a phone number with consent and was not called yet."""

    response_id: int
    submitted_at: datetime
    nps: int
    csat: int
    phone: str
    comment: str | None
    #: The cashier the answer names (code and name), if any.
    staff_code: str | None
    staff_name: str | None
    #: The case the answer opened: the call is then recorded on the case.
    case_id: int | None
    #: Calls so far that did not reach the customer.
    unreachable: int


@dataclass(frozen=True, slots=True)
class StoreToCall:
    """A store with the number of its customers waiting for a call."""

    code: str
    name: str
    waiting: int


def _waiting(now: datetime) -> ColumnElement[bool]:
    """SQL: a recent answer with a consented phone number whose customer no call has
    reached yet (a call nobody answered leaves them on the list, to try again)."""
    called = exists().where(
        PhoneVisit.about_response_id == Response.id,
        PhoneVisit.outcome != PhoneOutcome.UNREACHABLE,
    )
    return and_(
        ResponseContact.phone.is_not(None),
        Response.submitted_at >= now - timedelta(days=RECENT_DAYS),
        ~called,
    )


def list_customers_to_call(
    session: Session, store: Store, *, now: datetime, page: int
) -> Page[CustomerToCall]:
    """One page of the store's customers waiting for a call, the newest answer first.

    The caller has checked that the user may see ``store`` (`get_visible_store`)."""
    tries = (
        select(func.count())
        .where(PhoneVisit.about_response_id == Response.id)
        .correlate(Response)
        .scalar_subquery()
    )
    stmt = (
        select(
            Response.id,
            Response.submitted_at,
            Response.nps,
            Response.csat,
            ResponseContact.phone,
            Response.comment,
            Staff.code,
            Staff.name,
            Case.id,
            tries,
        )
        .join(ResponseContact, ResponseContact.response_id == Response.id)
        .outerjoin(Staff, Staff.id == Response.staff_id)
        .outerjoin(Case, Case.response_id == Response.id)
        .where(Response.store_id == store.id, _waiting(now))
        .order_by(Response.submitted_at.desc(), Response.id.desc())
    )
    found = paginate(session, stmt, page, PER_PAGE)
    return Page(
        items=[CustomerToCall(*row) for row in found.items],
        number=found.number,
        per_page=found.per_page,
        total=found.total,
    )


def list_stores_to_call(session: Session, user: User, *, now: datetime) -> list[StoreToCall]:
    """The stores ``user`` sees, by code, each with its customers waiting for a call."""
    waiting = (
        select(Response.store_id, func.count().label("waiting"))
        .join(ResponseContact, ResponseContact.response_id == Response.id)
        .where(_waiting(now))
        .group_by(Response.store_id)
        .subquery()
    )
    stmt = scope_to_user(
        select(Store.code, Store.name, func.coalesce(waiting.c.waiting, 0))
        .outerjoin(waiting, waiting.c.store_id == Store.id)
        .where(Store.closed_at.is_(None))
        .order_by(Store.code),
        user,
        Store.id,
    )
    return [StoreToCall(code, name, int(count)) for code, name, count in session.execute(stmt)]


def get_visible_store(session: Session, user: User, code: str) -> Store:
    """The store with this code, if ``user`` may see it.

    Raises
    ------
    NotFound
        No such store, or one the user may not see (one answer for both).
    """
    stmt = scope_to_user(select(Store).where(Store.code == code), user, Store.id)
    store: Store | None = session.scalar(stmt)
    if store is None:
        raise NotFound(_l("No such store."))
    return store


def get_answer_to_call(session: Session, user: User, response_id: int) -> Response:
    """The answer a call from the list is about, with its contact, store and cashier.

    Raises
    ------
    NotFound
        No such answer, or one of a store the user may not see.
    """
    stmt = scope_to_user(
        select(Response)
        .where(Response.id == response_id)
        .options(
            joinedload(Response.contact), joinedload(Response.store), joinedload(Response.staff)
        ),
        user,
        Response.store_id,
    )
    response: Response | None = session.scalar(stmt)
    if response is None:
        raise NotFound(_l("No such answer."))
    return response


def get_case_of(session: Session, response_id: int) -> Case | None:
    """The case an answer opened, if any."""
    return session.scalar(select(Case).where(Case.response_id == response_id))


def list_case_calls(session: Session, case_id: int) -> list[PhoneVisit]:
    """The return calls recorded on a case, the latest first."""
    stmt = (
        select(PhoneVisit)
        .where(PhoneVisit.case_id == case_id)
        .options(joinedload(PhoneVisit.called_by))
        .order_by(PhoneVisit.called_at.desc(), PhoneVisit.id.desc())
    )
    return list(session.scalars(stmt))
