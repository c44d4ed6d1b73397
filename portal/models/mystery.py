"""Mystery-shopper visits: scheduled for a shopper, filed as a checklist report, checked by a
reviewer, released to the store, perhaps disputed, then final. Every step is an event on the
visit's timeline; released observations of named staff are kept for the staff ranking."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, intpk, utcnow
from portal.models.accounts import User
from portal.models.org import Staff, Store
from portal.models.receipts import Receipt, SurveyVersion
from portal.models.timeline import TimelineEvent


class VisitState(StrEnum):
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    RETURNED = "returned"
    REJECTED = "rejected"
    RELEASED = "released"
    DISPUTED = "disputed"
    FINAL = "final"
    CANCELLED = "cancelled"


#: States in which a store may see the report, and in which it counts in scores.
RELEASED_STATES = frozenset({VisitState.RELEASED, VisitState.DISPUTED, VisitState.FINAL})


class Daypart(StrEnum):
    MORNING = "morning"  # opening to 11:00
    MIDDAY = "midday"  # 11:00-14:00
    AFTERNOON = "afternoon"  # 14:00-18:00
    EVENING = "evening"  # 18:00 to closing


#: Local hours each daypart covers, [start, end); the visit may start an hour either side.
DAYPART_HOURS: dict[str, tuple[int, int]] = {
    Daypart.MORNING: (7, 11),
    Daypart.MIDDAY: (11, 14),
    Daypart.AFTERNOON: (14, 18),
    Daypart.EVENING: (18, 23),
}


class ReceiptCheck(StrEnum):
    """What the POS says about the transaction id the shopper gave."""

    MATCHED = "matched"  # issued by this store inside the visit window
    OUTSIDE_WINDOW = "outside_window"  # this store's transaction, at another time
    NOT_FOUND = "not_found"  # no such transaction at this store (e.g. till not integrated)


class DisputeOutcome(StrEnum):
    UPHELD = "upheld"  # the report stands as released
    ADJUSTED = "adjusted"  # the reviewer changed answers; the score was recomputed


class MysteryVisit(Base):
    __tablename__ = "mystery_visits"
    __table_args__ = (
        Index("ix_mystery_visits_store_id_state", "store_id", "state"),
        Index("ix_mystery_visits_shopper_id_state", "shopper_id", "state"),
        CheckConstraint("window_start <= window_end", name="window_order"),
        CheckConstraint("fee_cents >= 0", name="fee_not_negative"),
    )

    id: Mapped[intpk]
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"))
    shopper_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    #: The exact checklist version the report answers (immutable once used).
    checklist_version_id: Mapped[int] = mapped_column(
        ForeignKey("survey_versions.id", ondelete="RESTRICT")
    )
    checklist_key: Mapped[str] = mapped_column(String(64))
    window_start: Mapped[date]
    window_end: Mapped[date]
    daypart: Mapped[str] = mapped_column(String(16))
    fee_cents: Mapped[int] = mapped_column(default=0)
    instructions: Mapped[str] = mapped_column(Text, default="", server_default="")
    state: Mapped[str] = mapped_column(String(16), default=VisitState.ASSIGNED)
    scheduled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # -- the report (a draft until submitted) --------------------------------------------------
    visit_started_at: Mapped[datetime | None]
    visit_ended_at: Mapped[datetime | None]
    #: Local date of the visit in the store's time zone (months and trends group by it).
    visit_day: Mapped[date | None] = mapped_column(index=True)
    served_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    served_by_description: Mapped[str] = mapped_column(Text, default="", server_default="")
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("receipts.id", ondelete="SET NULL"))
    receipt_check: Mapped[str | None] = mapped_column(String(16))
    #: Checklist answers as JSON (surveys.checklists.answers_to_json).
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: File name under the instance's photo folder (never under the web root).
    photo_file: Mapped[str | None] = mapped_column(String(80))
    #: 64-bit average hash as 16 hex digits: the same photo filed twice is flagged.
    photo_hash: Mapped[str | None] = mapped_column(String(16), index=True)
    submitted_at: Mapped[datetime | None]
    #: Automatic checks that need a reviewer's eye (late, receipt mismatch, duplicate photo...).
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)

    # -- review and release --------------------------------------------------------------------
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    review_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    released_at: Mapped[datetime | None]
    dispute_until: Mapped[datetime | None]
    final_at: Mapped[datetime | None]

    # -- scores (kept with the report; recomputed only by a recorded adjustment) ---------------
    score: Mapped[float | None] = mapped_column(Float)
    score_before_autofail: Mapped[float | None] = mapped_column(Float)
    auto_fail: Mapped[bool] = mapped_column(default=False, server_default=false())
    grade: Mapped[str | None] = mapped_column(String(16))
    #: Section key -> score (None when the section was wholly not applicable).
    section_scores: Mapped[dict[str, float | None]] = mapped_column(JSON, default=dict)

    #: Bumped on every change, so a stale form cannot apply a change made for an old state.
    version: Mapped[int] = mapped_column(default=1)

    store: Mapped[Store] = relationship()
    shopper: Mapped[User] = relationship(foreign_keys=[shopper_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    checklist_version: Mapped[SurveyVersion] = relationship()
    served_by: Mapped[Staff | None] = relationship()
    receipt: Mapped[Receipt | None] = relationship()
    events: Mapped[list[VisitEvent]] = relationship(
        back_populates="visit", order_by="VisitEvent.id", cascade="all, delete-orphan"
    )
    dispute: Mapped[VisitDispute | None] = relationship(
        back_populates="visit", cascade="all, delete-orphan"
    )
    observations: Mapped[list[StaffObservation]] = relationship(
        back_populates="visit", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class VisitEvent(TimelineEvent, Base):
    """One line of a visit's timeline. Kinds: scheduled, accepted, declined, draft_saved,
    submitted, resubmitted, review_started, returned, rejected, released, disputed, upheld,
    adjusted, finalised, cancelled."""

    __tablename__ = "mystery_visit_events"

    visit_id: Mapped[int] = mapped_column(
        ForeignKey("mystery_visits.id", ondelete="CASCADE"), index=True
    )

    visit: Mapped[MysteryVisit] = relationship(back_populates="events")


class VisitDispute(Base):
    """A store manager's query against a released report, and the reviewer's decision."""

    __tablename__ = "mystery_disputes"

    id: Mapped[intpk]
    visit_id: Mapped[int] = mapped_column(
        ForeignKey("mystery_visits.id", ondelete="CASCADE"), unique=True
    )
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    raised_at: Mapped[datetime]
    #: The checklist item disputed (queries must be specific), or None for the whole report.
    item_key: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))
    decision_note: Mapped[str] = mapped_column(Text, default="", server_default="")

    visit: Mapped[MysteryVisit] = relationship(back_populates="dispute")


class StaffObservation(Base):
    """A released visit's staff-attributable sub-score for one named staff member: what the
    staff ranking reads as the mystery signal. Rewritten only when a dispute adjusts it."""

    __tablename__ = "mystery_staff_observations"
    __table_args__ = (Index("ix_mystery_staff_observations_staff_id_day", "staff_id", "visit_day"),)

    id: Mapped[intpk]
    visit_id: Mapped[int] = mapped_column(
        ForeignKey("mystery_visits.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    visit_day: Mapped[date]
    #: Section keys credited to this person (observed staff's sections, or the cashier's).
    sections: Mapped[list[str]] = mapped_column(JSON, default=list)
    score: Mapped[float] = mapped_column(Float)

    visit: Mapped[MysteryVisit] = relationship(back_populates="observations")
    staff: Mapped[Staff] = relationship()
