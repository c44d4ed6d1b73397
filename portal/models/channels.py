"""The ways in besides a shopper's own phone: counter tablets (kiosks), paper cards keyed in
by staff, telephone return visits, and the text messages sent to customers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, intpk, utcnow
from portal.models.accounts import User
from portal.models.org import Store


class Kiosk(Base):
    """A counter tablet enrolled for one store. It enrols once with a one-time code an admin
    hands over; then its own credential (only the SHA-256 kept, like a POS key) sends the
    answers it took. Revoking it stops both."""

    __tablename__ = "kiosks"

    id: Mapped[intpk]
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: SHA-256 of the one-time enrolment code while it is unused and unexpired.
    enrol_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrol_expires_at: Mapped[datetime | None]
    #: SHA-256 of the device credential, set when the tablet enrols.
    credential_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrolled_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    #: Bumped on every change: of two admins renaming or revoking at once, one is refused.
    version: Mapped[int] = mapped_column(default=1)

    store: Mapped[Store] = relationship()

    __mapper_args__ = {"version_id_col": version}


class PaperCheck(StrEnum):
    """A sampled paper card's second keying: the same answers, or not."""

    PENDING = "pending"
    MATCHED = "matched"
    MISMATCHED = "mismatched"


class PaperEntry(Base):
    """Who keyed in a returned paper card, and, for a sample, a second person's check."""

    __tablename__ = "paper_entries"
    __table_args__ = (Index("ix_paper_entries_check_state", "check_state"),)

    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    entered_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    entered_at: Mapped[datetime]
    #: ``None`` when the card was not drawn for a second keying.
    check_state: Mapped[str | None] = mapped_column(String(16))
    checked_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    checked_at: Mapped[datetime | None]
    #: The answers that differed between the two keyings (question key -> both values).
    differences: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_user_id])


class PhoneOutcome(StrEnum):
    ANSWERED = "answered"
    UNREACHABLE = "unreachable"
    DECLINED = "declined"


class PhoneVisit(Base):
    """A telephone return visit: a manager's call to a customer, from a case or from the
    list of customers who agreed to be contacted. An answered call is a response of
    channel ``phone`` (``response_id``)."""

    __tablename__ = "phone_visits"

    id: Mapped[intpk]
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    #: The earlier answer whose consented contact was called.
    about_response_id: Mapped[int | None] = mapped_column(
        ForeignKey("responses.id", ondelete="SET NULL"), index=True
    )
    #: The answer taken on the call (``None`` when nobody answered or the customer declined).
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("responses.id", ondelete="SET NULL"), unique=True
    )
    outcome: Mapped[str] = mapped_column(String(16))
    #: "Was your problem solved?"
    problem_solved: Mapped[bool | None]
    called_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    called_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)

    store: Mapped[Store] = relationship()
    called_by: Mapped[User | None] = relationship()


class SmsStatus(StrEnum):
    """Where a text message is: waiting (first try or a retry), handed to the provider,
    delivered or not as the provider reports, or never sent (opted out, rate limited)."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    OPTED_OUT = "opted_out"
    RATE_LIMITED = "rate_limited"


class SmsMessage(Base):
    """One text message to a customer, with its delivery status as the provider reports it.
    The outbox sender keeps it here (development, tests); a provider sender sends it."""

    __tablename__ = "sms_messages"
    __table_args__ = (
        Index("ix_sms_messages_to_number_created_at", "to_number", "created_at"),
        Index("ix_sms_messages_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[intpk]
    #: E.164 (``+8613800138000``).
    to_number: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    #: ``follow_up`` (the recovery link) or ``return_visit`` (notice of a coming call).
    kind: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(10))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=SmsStatus.QUEUED)
    #: The sender that handled it (``outbox``, ``twilio`` ...), and its id there.
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    status_at: Mapped[datetime | None]


class SmsOptOut(Base):
    """A number that replied with an opt-out word: nothing more is sent to it."""

    __tablename__ = "sms_opt_outs"

    to_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    opted_out_at: Mapped[datetime]
    #: The reply that opted out (``TD``, ``STOP`` ...).
    word: Mapped[str] = mapped_column(String(32))
    #: ``False`` once the customer opts back in (``START``); the row stays as the record.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
