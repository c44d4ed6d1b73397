"""A staff member's month: the per-staff monthly rollup grain the ranking reads, and the
stored rankings of months that are over.

* ``staff_monthly_rollups`` per store, staff member, month and channel: the same counts
  as the other grains (`portal.models.rollups`), kept in step by `portal.rollups` in the
  answer's transaction and by ``rebuild-rollups``;
* ``stored_rankings`` one ranking result per month, award scope and gating, with the
  fingerprint of everything it was computed from (`portal.hr.stored`), and
  ``stored_ranking_rows`` its per-person figures, for a person's 12-month trend.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, intpk
from portal.models.rollups import RollupCounts, _StoreKey


class StaffMonthlyRollup(_StoreKey, RollupCounts, Base):
    __tablename__ = "staff_monthly_rollups"
    __table_args__ = (
        PrimaryKeyConstraint("store_id", "staff_key", "month", "channel"),
        # Covering for the fingerprint's per-month count, sum and max of ``changes``.
        Index("ix_staff_monthly_rollups_month", "month", "changes"),
    )

    #: The staff id, or 0 for receipts not tied to a cashier (as in ``daily_rollups``).
    staff_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: The first day of the store-local month.
    month: Mapped[date] = mapped_column(primary_key=True)
    #: Writes to this row: 1 when inserted by an answer or receipt, +1 on every upsert;
    #: ``rebuild-rollups`` gives its rows one more than the largest before. A month's count
    #: of rows, sum and max of ``changes`` therefore change with every write to it (the
    #: stored ranking's fingerprint, `portal.hr.fingerprints`).
    changes: Mapped[int] = mapped_column(default=0, server_default="0")


class StoredRanking(Base):
    """The ranking of one closed month for one award scope, with or without the award
    gates. ``fingerprint`` is the SHA-256 of the ranking's inputs as read (answers less
    held ones, visits, complaints, staff list, parameters, channels): a stored ranking is
    used only while the month's data still gives the same fingerprint."""

    __tablename__ = "stored_rankings"
    __table_args__ = (UniqueConstraint("month", "scope", "gated"),)

    id: Mapped[intpk]
    month: Mapped[date]
    scope: Mapped[str] = mapped_column(String(16))
    gated: Mapped[bool] = mapped_column(Boolean)
    fingerprint: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime]
    #: The whole result (`portal.hr.stored.encode`): scales, prior, every person's score.
    body: Mapped[str] = mapped_column(Text)


class StoredRankingRow(Base):
    """One person's figures in a stored ranking (what their trend shows)."""

    __tablename__ = "stored_ranking_rows"
    __table_args__ = (
        PrimaryKeyConstraint("ranking_id", "staff_id"),
        Index("ix_stored_ranking_rows_staff_id", "staff_id"),
    )

    ranking_id: Mapped[int] = mapped_column(ForeignKey("stored_rankings.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(Integer, autoincrement=False)
    award_group: Mapped[str] = mapped_column(String(120))
    n: Mapped[int]
    composite: Mapped[float | None] = mapped_column(Float)
    q10: Mapped[float | None] = mapped_column(Float)
    q90: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None]
    greyed: Mapped[bool] = mapped_column(Boolean)
    #: How many people of their award group were ranked that month.
    group_ranked: Mapped[int]
