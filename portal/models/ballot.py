"""Ballot stuffing: where each screened answer came from (kept only as long as the burst and
pattern rules look back), and the flags that hold suspicious answers out of rankings and awards
until a reviewer clears them (`portal.ballot`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, intpk
from portal.models.receipts import Response


class FlagRule(StrEnum):
    """Why an answer was held (each rule is defined once, in `portal.ballot.rules`)."""

    BURST = "burst"
    FAST = "fast"
    PATTERN = "pattern"


class FlagState(StrEnum):
    HELD = "held"
    CLEARED = "cleared"
    REJECTED = "rejected"


class ResponseOrigin(Base):
    """Where a screened answer came from, as keyed hashes only: the device (address and
    browser) and the network (IPv4 /24, IPv6 /48), plus the hash of its answer pattern.
    Store, staff and time are copied so that each rule is one indexed range read."""

    __tablename__ = "response_origins"
    __table_args__ = (
        Index("ix_response_origins_device_key_submitted_at", "device_key", "submitted_at"),
        Index("ix_response_origins_network_key_submitted_at", "network_key", "submitted_at"),
        Index("ix_response_origins_pattern_key_submitted_at", "pattern_key", "submitted_at"),
    )

    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    staff_id: Mapped[int | None]
    #: Rows older than the rules' longest window are deleted by later submits (this index).
    submitted_at: Mapped[datetime] = mapped_column(index=True)
    #: HMAC-SHA256 (secret key) of address + user agent, and of the address's network:
    #: comparable, not reversible to an address.
    device_key: Mapped[str] = mapped_column(String(32))
    network_key: Mapped[str] = mapped_column(String(32))
    #: SHA-256 of every score, choice and the normalised comment.
    pattern_key: Mapped[str] = mapped_column(String(32))


class ResponseFlag(Base):
    """One rule's suspicion of one answer. While any flag of an answer is not cleared, the
    answer is held out of rankings and awards (`portal.ballot.holds`)."""

    __tablename__ = "response_flags"
    __table_args__ = (
        # One flag per rule and answer: a burst seen again by a later submit adds nothing.
        UniqueConstraint("response_id", "rule"),
        Index("ix_response_flags_state_rule_flagged_at", "state", "rule", "flagged_at"),
    )

    id: Mapped[intpk]
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(16))
    #: What the rule saw when it flagged (counts, seconds, window), for the review page.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    flagged_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default=FlagState.HELD)
    reviewed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    #: The reviewer's label at the time (kept when the user is deleted).
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    #: Bumped on every change: of two reviewers deciding at once, the second is refused.
    version: Mapped[int] = mapped_column(default=1)

    response: Mapped[Response] = relationship()

    __mapper_args__ = {"version_id_col": version}
