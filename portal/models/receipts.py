"""Receipts issued by the tills, the survey versions shoppers answer, and their responses."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, intpk, utcnow
from portal.models.org import Staff, Store
from portal.models.surveys import ResponseAnswer


class SurveyVersion(Base):
    """An immutable published survey definition; responses point at the exact one answered."""

    __tablename__ = "survey_versions"

    __table_args__ = (UniqueConstraint("survey_id", "number"),)

    id: Mapped[intpk]
    survey_key: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the canonical definition: same content, same version.
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The survey this is a version of (``None`` for mystery-shop checklists), and its
    #: number there: 1, 2, 3 ... in publishing order.
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id", ondelete="RESTRICT"))
    number: Mapped[int | None]
    #: NPS/CSAT are comparable within a series; a version that rewords a scoring question
    #: starts a new one, and the dashboards show the break.
    scoring_series: Mapped[int] = mapped_column(default=1, server_default="1")
    published_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class Receipt(Base):
    __tablename__ = "receipts"
    __table_args__ = (
        # Idempotency of the POS API: a reprinted receipt gets the same code.
        UniqueConstraint("store_id", "transaction_id"),
        Index("ix_receipts_store_id_issued_at", "store_id", "issued_at"),
        # Covers the store page's funnel by day part: no row is read.
        Index(
            "ix_receipts_store_id_local_day_hour",
            "store_id",
            "local_day",
            "local_hour",
            "answered_at",
        ),
    )

    id: Mapped[intpk]
    #: Random part of the signed token; the token itself is recomputed, never stored.
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    #: The typeable code printed under the QR (canonical, without separators).
    short_code: Mapped[str] = mapped_column(String(16), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"))
    #: The cashier on the receipt; empty for batch-printed cards handed out by the store.
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="RESTRICT"), index=True
    )
    transaction_id: Mapped[str] = mapped_column(String(64))
    #: When the purchase happened (from the till), UTC.
    issued_at: Mapped[datetime]
    #: ``issued_at`` as the store's calendar day (reports count store-local days).
    local_day: Mapped[date]
    #: The store-local hour of ``issued_at`` (0-23), for the funnel by time of day.
    local_hour: Mapped[int] = mapped_column(SmallInteger)
    expires_at: Mapped[datetime]
    #: Receipt total in the smallest currency unit (fen/cents), exact; negative for refunds.
    total_cents: Mapped[int | None] = mapped_column(BigInteger)
    #: ``api``, ``batch`` or ``demo``.
    source: Mapped[str] = mapped_column(String(16), default="api")
    #: The survey version this receipt asks, decided when it is issued (`portal.targeting`).
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]

    store: Mapped[Store] = relationship()
    staff: Mapped[Staff | None] = relationship()
    survey_version: Mapped[SurveyVersion] = relationship()
    response: Mapped[Response | None] = relationship(back_populates="receipt")


class Channel(StrEnum):
    """How an answer came in. Every response records one, and every figure can be split by
    it (`portal.channels`)."""

    #: The shopper scanned the receipt's QR code.
    RECEIPT = "receipt"
    #: The shopper typed the receipt's short code at ``/r``.
    CODE = "code"
    #: A counter tablet in the store (with the receipt's code only if the shopper typed it).
    KIOSK = "kiosk"
    #: A returned paper card, keyed in by staff.
    PAPER = "paper"
    #: A telephone return visit recorded by a manager.
    PHONE = "phone"


#: The channels whose answers need no receipt.
RECEIPTLESS_CHANNELS = (Channel.KIOSK, Channel.PHONE)


RATING_KEYS = (
    "rating_friendliness",
    "rating_speed",
    "rating_availability",
    "rating_cleanliness",
    "rating_knowledge",
)


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = (
        CheckConstraint("nps BETWEEN 0 AND 10", name="nps_range"),
        CheckConstraint("csat BETWEEN 1 AND 5", name="csat_range"),
        *(CheckConstraint(f"{key} BETWEEN 1 AND 5", name=f"{key}_range") for key in RATING_KEYS),
        Index("ix_responses_store_id_submitted_at", "store_id", "submitted_at"),
        Index("ix_responses_store_id_local_day", "store_id", "local_day"),
        # Partial and covering: the store page counts its comments and its problem
        # categories from these alone, without reading a response.
        Index(
            "ix_responses_store_id_local_day_commented",
            "store_id",
            "local_day",
            "channel",
            sqlite_where=text("comment IS NOT NULL"),
            postgresql_where=text("comment IS NOT NULL"),
        ),
        Index(
            "ix_responses_store_id_local_day_category",
            "store_id",
            "local_day",
            "channel",
            "problem_category",
            sqlite_where=text("problem_category IS NOT NULL"),
            postgresql_where=text("problem_category IS NOT NULL"),
        ),
        Index("ix_responses_survey_version_id", "survey_version_id"),
        # A kiosk's queued answer carries an id made on the tablet: sent again after a lost
        # reply, it is stored once.
        UniqueConstraint("kiosk_id", "client_id"),
        CheckConstraint(
            "receipt_id IS NOT NULL OR channel IN ('kiosk', 'phone')", name="receipt_or_channel"
        ),
    )

    id: Mapped[intpk]
    #: UNIQUE: the database, not the code, guarantees one response per receipt. Only a
    #: kiosk answer without a typed code and a phone return visit have no receipt.
    receipt_id: Mapped[int | None] = mapped_column(
        ForeignKey("receipts.id", ondelete="CASCADE"), unique=True
    )
    channel: Mapped[str] = mapped_column(
        String(8), default=Channel.RECEIPT, server_default=Channel.RECEIPT.value
    )
    #: The tablet that took a kiosk answer, and the answer's id made there.
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id", ondelete="SET NULL"))
    client_id: Mapped[str | None] = mapped_column(String(36))
    #: The member of staff who keyed in a paper card or recorded a phone answer.
    entered_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"))
    # Store and staff are copied from the receipt so that aggregates need no join.
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"))
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="RESTRICT"), index=True
    )
    submitted_at: Mapped[datetime]
    #: ``submitted_at`` as the store's calendar day.
    local_day: Mapped[date]
    locale: Mapped[str] = mapped_column(String(10))
    nps: Mapped[int]
    csat: Mapped[int]
    rating_friendliness: Mapped[int | None]
    rating_speed: Mapped[int | None]
    rating_availability: Mapped[int | None]
    rating_cleanliness: Mapped[int | None]
    rating_knowledge: Mapped[int | None]
    problem_reported: Mapped[bool] = mapped_column(default=False, server_default=false())
    problem_category: Mapped[str | None] = mapped_column(String(32))
    #: Stored verbatim; escaped wherever it is shown.
    comment: Mapped[str | None] = mapped_column(Text)
    #: When the thank-you validation code was redeemed at a till, and by whom.
    redeemed_at: Mapped[datetime | None]
    redeemed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    receipt: Mapped[Receipt | None] = relationship(back_populates="response")
    store: Mapped[Store] = relationship()
    staff: Mapped[Staff | None] = relationship()
    contact: Mapped[ResponseContact | None] = relationship(back_populates="response")
    #: Answers to the custom questions of its version.
    answers: Mapped[list[ResponseAnswer]] = relationship(
        order_by="ResponseAnswer.id", cascade="all, delete-orphan", passive_deletes=True
    )


class ResponseContact(Base):
    """Contact details a shopper chose to leave; kept apart so that access can be narrower."""

    __tablename__ = "response_contacts"

    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    #: The exact consent sentence the shopper agreed to, in the language shown.
    consent_text: Mapped[str] = mapped_column(Text)
    consented_at: Mapped[datetime]

    response: Mapped[Response] = relationship(back_populates="contact")
