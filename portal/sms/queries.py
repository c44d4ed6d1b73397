"""Reading text messages: a case's messages, whether its follow-up link was texted, whether
a number opted out, and the text message page (scoped to the stores a user may see)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.access import scope_to_user
from portal.models import Case, Role, SmsMessage, SmsOptOut, SmsStatus, User
from portal.pagination import Page, paginate
from portal.sms.text import SmsKind

PER_PAGE = 25
#: A follow-up text on its way or arrived: the link is not texted twice.
IN_FLIGHT = (SmsStatus.QUEUED, SmsStatus.SENT, SmsStatus.DELIVERED)


def list_case_messages(session: Session, case_id: int) -> list[SmsMessage]:
    """The case's text messages, newest first."""
    return list(
        session.scalars(
            select(SmsMessage)
            .where(SmsMessage.case_id == case_id)
            .order_by(SmsMessage.created_at.desc(), SmsMessage.id.desc())
        )
    )


def follow_up_texted(session: Session, case_id: int) -> bool:
    """Whether the case's follow-up link was texted and that text is on its way or
    arrived (a failed, refused or undelivered one may be sent again)."""
    stmt = select(SmsMessage.id).where(
        SmsMessage.case_id == case_id,
        SmsMessage.kind == SmsKind.FOLLOW_UP,
        SmsMessage.status.in_(IN_FLIGHT),
    )
    return session.scalar(stmt.limit(1)) is not None


def is_opted_out(session: Session, number: str) -> bool:
    """Whether ``number`` (E.164) asked for no more text messages."""
    stmt = select(SmsOptOut.to_number).where(SmsOptOut.to_number == number, SmsOptOut.active)
    return session.scalar(stmt) is not None


def list_text_messages(session: Session, user: User, *, page: int) -> Page[SmsMessage]:
    """One page of the text messages ``user`` may see, newest first: an admin sees all, a
    manager those of the cases of their stores."""
    stmt = select(SmsMessage)
    if user.role != Role.ADMIN:
        cases = scope_to_user(select(Case.id), user, Case.store_id)
        stmt = stmt.where(SmsMessage.case_id.in_(cases))
    stmt = stmt.order_by(SmsMessage.created_at.desc(), SmsMessage.id.desc())
    return paginate(session, stmt, page, PER_PAGE)
