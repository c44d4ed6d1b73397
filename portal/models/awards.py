"""Monthly service-star award cycles: a frozen snapshot of the ranking, nominations that HR
approves or rejects with a reason, public notice (公示), appeals, and an append-only,
hash-chained event log so that every award can be defended later."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, intpk, utcnow
from portal.models.org import Staff, Store


class CycleState(StrEnum):
    IN_REVIEW = "in_review"  # computed and proposed; HR decides each nomination
    PUBLISHED = "published"  # public notice: objections (appeals) may be raised
    FINAL = "final"  # the notice period is over; locked


class NominationState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class NominationSource(StrEnum):
    PROPOSED = "proposed"  # the ranking proposed it
    MANUAL = "manual"  # added by HR by hand, with a justification


class AppealOutcome(StrEnum):
    STANDS = "stands"  # the decision stands
    CHANGED = "changed"  # the decision was reversed


class AwardScope(StrEnum):
    REGION = "region"
    STORE = "store"
    CHAIN = "chain"


class AwardCycle(Base):
    """One month's award cycle; its snapshot never changes once computed."""

    __tablename__ = "award_cycles"

    id: Mapped[intpk]
    #: The first day of the month the awards are for.
    month: Mapped[date] = mapped_column(unique=True)
    scope: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=CycleState.IN_REVIEW)
    #: The parameters used (weights, m, kappa, thresholds, seed) as published.
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: SHA-256 over the inputs (every row the ranking read): proves what the awards saw.
    input_digest: Mapped[str] = mapped_column(String(64))
    code_version: Mapped[str] = mapped_column(String(40))
    prior_strength: Mapped[float] = mapped_column(Float)
    opened_by: Mapped[str] = mapped_column(String(100))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    notice_until: Mapped[datetime | None]
    final_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    rows: Mapped[list[SnapshotRow]] = relationship(
        back_populates="cycle", order_by="SnapshotRow.id", cascade="all, delete-orphan"
    )
    nominations: Mapped[list[Nomination]] = relationship(
        back_populates="cycle", order_by="Nomination.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class SnapshotRow(Base):
    """One staff member's frozen scores in a cycle (names copied: a later rename or
    transfer does not rewrite a published month)."""

    __tablename__ = "award_snapshot_rows"
    __table_args__ = (UniqueConstraint("cycle_id", "staff_id"),)

    id: Mapped[intpk]
    cycle_id: Mapped[int] = mapped_column(ForeignKey("award_cycles.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"))
    staff_code: Mapped[str] = mapped_column(String(32))
    staff_name: Mapped[str] = mapped_column(String(200))
    store_code: Mapped[str] = mapped_column(String(32))
    store_name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(100))
    group: Mapped[str] = mapped_column(String(100))
    rank: Mapped[int | None]
    n: Mapped[int]
    composite: Mapped[float] = mapped_column(Float)
    q10: Mapped[float] = mapped_column(Float)
    q90: Mapped[float] = mapped_column(Float)
    p_top: Mapped[float] = mapped_column(Float)
    eligible: Mapped[bool]
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    proposed: Mapped[bool]
    coaching: Mapped[bool]
    #: Each component as shown: name, estimate, low, high, n, omega, raw, z.
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSON)

    cycle: Mapped[AwardCycle] = relationship(back_populates="rows")
    staff: Mapped[Staff] = relationship()
    store: Mapped[Store] = relationship()


class Nomination(Base):
    __tablename__ = "award_nominations"
    __table_args__ = (UniqueConstraint("cycle_id", "staff_id"),)

    id: Mapped[intpk]
    cycle_id: Mapped[int] = mapped_column(ForeignKey("award_cycles.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"))
    source: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=NominationState.PENDING)
    #: Why HR added it by hand (required for manual nominations).
    justification: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    version: Mapped[int] = mapped_column(default=1)

    cycle: Mapped[AwardCycle] = relationship(back_populates="nominations")
    staff: Mapped[Staff] = relationship()
    appeals: Mapped[list[Appeal]] = relationship(
        back_populates="nomination", order_by="Appeal.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class Appeal(Base):
    """A store manager's objection to a decision, and HR's answer."""

    __tablename__ = "award_appeals"

    id: Mapped[intpk]
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("award_nominations.id", ondelete="CASCADE"), index=True
    )
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    raised_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))
    answer: Mapped[str] = mapped_column(Text, default="", server_default="")

    nomination: Mapped[Nomination] = relationship(back_populates="appeals")


class AwardEvent(Base):
    """Append-only: each row's hash covers the previous row's hash and its own content, so
    an edited or deleted row breaks the chain (``verify_award_log``)."""

    __tablename__ = "award_events"
    __table_args__ = (Index("ix_award_events_cycle_id", "cycle_id"),)

    id: Mapped[intpk]
    cycle_id: Mapped[int] = mapped_column(ForeignKey("award_cycles.id", ondelete="RESTRICT"))
    nomination_id: Mapped[int | None] = mapped_column(
        ForeignKey("award_nominations.id", ondelete="RESTRICT")
    )
    at: Mapped[datetime]
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(100))
    #: opened, approved, rejected, nominated, published, appealed, appeal_answered, finalised
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class RankingPolicy(Base):
    """What HR configures for the staff ranking, published before the period. Insert-only:
    the newest row applies, earlier rows are the history of who changed what."""

    __tablename__ = "ranking_policies"

    id: Mapped[intpk]
    customer_weight: Mapped[float] = mapped_column(Float)
    mystery_weight: Mapped[float] = mapped_column(Float)
    complaints_weight: Mapped[float] = mapped_column(Float)
    #: Absolute minimum of the person's own answers in the month to be eligible.
    min_n: Mapped[int]
    top_fraction: Mapped[float] = mapped_column(Float)
    #: Coaching line: the optimistic bound (Q90, in between-staff SDs) below this.
    baseline: Mapped[float] = mapped_column(Float)
    scope: Mapped[str] = mapped_column(String(16))
    notice_days: Mapped[int]
    #: The answer channels the ranking counts, comma-separated (`portal.models.Channel`):
    #: by default the receipt's own, where the cashier is known and the answer unprompted.
    channels: Mapped[str] = mapped_column(
        String(64), default="receipt,code", server_default="receipt,code"
    )
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
