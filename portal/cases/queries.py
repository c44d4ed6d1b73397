"""Reading cases: one case as its user may see it, the filtered and ordered case list, who
may take a case, a case's follow-up link, and the mail outbox. Writes live in
`portal.cases.operations`; these only select.

Every read a manager can reach is scoped to their stores with `portal.access.scope_to_user`,
and a case of another store answers as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.access import managers_of, scope_to_user
from portal.errors import NotFound
from portal.models import (
    Case,
    CaseState,
    CommentTheme,
    FollowUp,
    OutboxMessage,
    Role,
    Store,
    User,
)
from portal.pagination import Page, paginate

#: Cases still waiting for work; in the list they come before resolved and closed ones.
UNFINISHED = (CaseState.OPEN, CaseState.IN_PROGRESS)
#: Cases whose loop is closed (the list's "finished" filter).
FINISHED = (CaseState.RESOLVED, CaseState.CLOSED)
#: Cases and outbox messages per page.
PER_PAGE = 25


@dataclass(frozen=True, slots=True)
class CaseFilters:
    """The case list's filters. ``state`` is empty for the unfinished cases (the list's
    default: the work still waiting), ``"all"``, ``"finished"`` or one state; the other
    empty strings filter nothing. ``assignee`` is ``"me"``, ``"unassigned"`` or empty."""

    state: str = ""
    store: str = ""
    category: str = ""
    assignee: str = ""
    overdue: bool = False
    #: A comment theme: cases whose answer's comment was classified with it.
    theme: str = ""


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """SQL for `portal.cases.operations.is_overdue`: still waiting for the first response
    after the deadline. The list, the home page and the counts all ask this one question."""
    return and_(Case.state == CaseState.OPEN, Case.first_response_due_at < now)


def get_case(session: Session, case_id: int, *, visible_to: User | None = None) -> Case:
    """A case by id; with ``visible_to``, only if that user may see its store.

    Raises
    ------
    NotFound
        No such case, or one of a store the user may not see (one answer for both).
    """
    stmt = select(Case).where(Case.id == case_id)
    if visible_to is not None:
        stmt = scope_to_user(stmt, visible_to, Case.store_id)
    case = session.scalar(stmt)
    if case is None:
        raise NotFound(_l("No such case."))
    return case


def list_cases(
    session: Session, user: User, filters: CaseFilters, *, now: datetime, page: int
) -> Page[Case]:
    """One page of the cases ``user`` may see that pass ``filters``: overdue first, then
    the rest of the unfinished work, then resolved and closed cases; within each, the
    earliest deadline first. An unknown filter value matches nothing."""
    overdue = overdue_condition(now)
    rank = sql_case((overdue, 0), (Case.state.in_(UNFINISHED), 1), else_=2)
    stmt = scope_to_user(select(Case), user, Case.store_id)
    # The response too: each card shows the customer's scores.
    stmt = stmt.options(
        joinedload(Case.store), joinedload(Case.assignee), joinedload(Case.response)
    )
    if not filters.state:
        stmt = stmt.where(Case.state.in_(UNFINISHED))
    elif filters.state == "finished":
        stmt = stmt.where(Case.state.in_(FINISHED))
    elif filters.state != "all":
        stmt = stmt.where(Case.state == filters.state)
    if filters.store:
        stmt = stmt.where(Case.store_id.in_(select(Store.id).where(Store.code == filters.store)))
    if filters.category:
        stmt = stmt.where(Case.category == filters.category)
    if filters.theme:
        themed = select(CommentTheme.response_id).where(CommentTheme.theme == filters.theme)
        stmt = stmt.where(Case.response_id.in_(themed))
    if filters.overdue:
        stmt = stmt.where(overdue)
    if filters.assignee == "me":
        stmt = stmt.where(Case.assignee_id == user.id)
    elif filters.assignee == "unassigned":
        stmt = stmt.where(Case.assignee_id.is_(None))
    stmt = stmt.order_by(rank, Case.first_response_due_at, Case.id)
    return paginate(session, stmt, page, PER_PAGE)


def list_assignees(session: Session, store_id: int) -> list[User]:
    """Who may take a case of the store: its active managers, then the active admins, each
    by e-mail address."""
    admins = session.scalars(
        select(User).where(User.role == Role.ADMIN, User.active.is_(True)).order_by(User.email)
    )
    managers = sorted(managers_of(session, store_id), key=lambda user: user.email)
    return [*managers, *admins]


def get_user(session: Session, user_id: int) -> User | None:
    """A user by id (the assignee a form names), or None."""
    return session.get(User, user_id)


def get_follow_up(session: Session, case_id: int) -> FollowUp | None:
    """The case's follow-up link, if one was sent."""
    return session.scalar(select(FollowUp).where(FollowUp.case_id == case_id))


def get_follow_up_by_token(session: Session, token_id: str) -> FollowUp | None:
    """The follow-up with this token id, its case and store loaded with it."""
    return session.scalar(
        select(FollowUp)
        .where(FollowUp.token_id == token_id)
        .options(selectinload(FollowUp.case).joinedload(Case.store))
    )


def list_outbox(session: Session, *, page: int) -> Page[OutboxMessage]:
    """One page of the mail outbox, newest first."""
    stmt = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    return paginate(session, stmt, page, PER_PAGE)
