"""Follow-up cases for unhappy customers and complaints: register -> classify -> resolve ->
close the loop with a return visit. Every change is an event on the case's timeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, intpk, utcnow
from portal.models.accounts import User
from portal.models.org import Staff, Store
from portal.models.receipts import Response
from portal.models.timeline import TimelineEvent


class CaseState(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Resolution(StrEnum):
    REFUND = "refund"
    EXCHANGE = "exchange"
    APOLOGY = "apology"
    REPAIR = "repair"
    EXPLANATION = "explanation"
    VOUCHER = "voucher"
    OTHER = "other"


class ReturnVisit(StrEnum):
    SATISFIED = "satisfied"
    UNSATISFIED = "unsatisfied"
    UNREACHABLE = "unreachable"


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_store_id_state", "store_id", "state"),
        Index("ix_cases_state_first_response_due_at", "state", "first_response_due_at"),
    )

    id: Mapped[intpk]
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"))
    #: The staff member on the receipt (or named at the counter), if any.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    #: The response that opened it automatically; unique, so one response opens one case.
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("responses.id", ondelete="SET NULL"), unique=True
    )
    #: ``survey`` (opened by a response) or ``manual`` (e.g. a complaint at the counter).
    source: Mapped[str] = mapped_column(String(16))
    #: Why a survey case opened: detractor, low_csat, problem (comma-separated).
    reasons: Mapped[str] = mapped_column(String(64), default="", server_default="")
    category: Mapped[str | None] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    state: Mapped[str] = mapped_column(String(16), default=CaseState.OPEN)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Contact details exist only when the customer consented (copied from the response's
    # consented contact, or taken at the counter with consent).
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_due_at: Mapped[datetime]
    first_contact_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    #: The complaint against the staff member was justified (有责): it counts against them
    #: in the staff ranking and bars them from that month's award.
    substantiated: Mapped[bool] = mapped_column(default=False, server_default=false())
    closed_at: Mapped[datetime | None]
    return_visit: Mapped[str | None] = mapped_column(String(16))
    #: When the assignee was last told the case is overdue (one notice per overdue spell).
    overdue_notified_at: Mapped[datetime | None]
    #: Bumped on every change: a form posted from a stale page is refused, not applied twice.
    version: Mapped[int] = mapped_column(default=1)

    store: Mapped[Store] = relationship()
    staff: Mapped[Staff | None] = relationship()
    response: Mapped[Response | None] = relationship()
    assignee: Mapped[User | None] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class CaseEvent(TimelineEvent, Base):
    """One line of a case's timeline. Kinds: opened, assigned, contacted, note, resolved,
    closed, reopened, follow_up_sent, follow_up_answered, overdue_notified."""

    __tablename__ = "case_events"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)

    case: Mapped[Case] = relationship(back_populates="events")
    actor_user: Mapped[User | None] = relationship()


class FollowUp(Base):
    """The one-question recovery check ("Was your problem solved? 1-5") sent after a case
    is resolved; its answer closes the loop."""

    __tablename__ = "follow_ups"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)

    id: Mapped[intpk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    score: Mapped[int | None] = mapped_column(SmallInteger)

    case: Mapped[Case] = relationship()


class OutboxMessage(Base):
    """E-mail to be sent. With SMTP settings a sender delivers it; in development and tests
    it stays here and the outbox page shows it (no network)."""

    __tablename__ = "outbox"

    id: Mapped[intpk]
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
