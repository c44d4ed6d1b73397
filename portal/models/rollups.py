"""The rollups: counts and sums that every dashboard figure is computed from, so that a
page's cost grows with days x stores, not with responses. Three grains, kept in step by
`portal.rollups`:

* ``daily_rollups`` per store, staff member and day (staff funnel, rankings);
* ``store_daily_rollups`` per store and day (store and chain pages, trends);
* ``store_monthly_rollups`` per store and month (the whole months of long periods).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, Index, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from portal.db import Base

NPS_COLUMNS = tuple(f"nps_{score}" for score in range(11))
CSAT_COLUMNS = tuple(f"csat_{score}" for score in range(1, 6))
RATING_KEYS = (
    "friendliness",
    "speed",
    "availability",
    "cleanliness",
    "knowledge",
)


class RollupCounts:
    """The counted columns shared by every rollup grain."""

    #: Receipts issued, and how many of those were answered (on any later day).
    issued: Mapped[int] = mapped_column(default=0)
    issued_answered: Mapped[int] = mapped_column(default=0)
    #: Responses submitted.
    responses: Mapped[int] = mapped_column(default=0)
    problems: Mapped[int] = mapped_column(default=0)

    nps_0: Mapped[int] = mapped_column(default=0)
    nps_1: Mapped[int] = mapped_column(default=0)
    nps_2: Mapped[int] = mapped_column(default=0)
    nps_3: Mapped[int] = mapped_column(default=0)
    nps_4: Mapped[int] = mapped_column(default=0)
    nps_5: Mapped[int] = mapped_column(default=0)
    nps_6: Mapped[int] = mapped_column(default=0)
    nps_7: Mapped[int] = mapped_column(default=0)
    nps_8: Mapped[int] = mapped_column(default=0)
    nps_9: Mapped[int] = mapped_column(default=0)
    nps_10: Mapped[int] = mapped_column(default=0)

    csat_1: Mapped[int] = mapped_column(default=0)
    csat_2: Mapped[int] = mapped_column(default=0)
    csat_3: Mapped[int] = mapped_column(default=0)
    csat_4: Mapped[int] = mapped_column(default=0)
    csat_5: Mapped[int] = mapped_column(default=0)

    # Per optional rating: answers, sum and sum of squares (enough for a t interval).
    friendliness_n: Mapped[int] = mapped_column(default=0)
    friendliness_sum: Mapped[int] = mapped_column(default=0)
    friendliness_sumsq: Mapped[int] = mapped_column(default=0)
    speed_n: Mapped[int] = mapped_column(default=0)
    speed_sum: Mapped[int] = mapped_column(default=0)
    speed_sumsq: Mapped[int] = mapped_column(default=0)
    availability_n: Mapped[int] = mapped_column(default=0)
    availability_sum: Mapped[int] = mapped_column(default=0)
    availability_sumsq: Mapped[int] = mapped_column(default=0)
    cleanliness_n: Mapped[int] = mapped_column(default=0)
    cleanliness_sum: Mapped[int] = mapped_column(default=0)
    cleanliness_sumsq: Mapped[int] = mapped_column(default=0)
    knowledge_n: Mapped[int] = mapped_column(default=0)
    knowledge_sum: Mapped[int] = mapped_column(default=0)
    knowledge_sumsq: Mapped[int] = mapped_column(default=0)


class _StoreKey:
    @declared_attr
    def store_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)

    #: The channel of the answers counted (`portal.models.Channel`). Receipts issued and
    #: answered (the receipt funnel) are counted under ``receipt``, whichever channel
    #: answered them.
    @declared_attr
    def channel(cls) -> Mapped[str]:
        return mapped_column(String(8), primary_key=True, server_default="receipt")


class DailyRollup(_StoreKey, RollupCounts, Base):
    __tablename__ = "daily_rollups"
    __table_args__ = (
        PrimaryKeyConstraint("store_id", "staff_key", "day", "channel"),
        Index("ix_daily_rollups_day_store_id", "day", "store_id"),
    )

    #: The staff id, or 0 for receipts not tied to a cashier. Not a foreign key: 0 must be
    #: a real value so that (store, staff, day) is a primary key on every database.
    staff_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: The store's local calendar day.
    day: Mapped[date] = mapped_column(primary_key=True)


class StoreDailyRollup(_StoreKey, RollupCounts, Base):
    __tablename__ = "store_daily_rollups"
    __table_args__ = (
        PrimaryKeyConstraint("store_id", "day", "channel"),
        Index("ix_store_daily_rollups_day", "day"),
    )

    day: Mapped[date] = mapped_column(primary_key=True)


class StoreMonthlyRollup(_StoreKey, RollupCounts, Base):
    __tablename__ = "store_monthly_rollups"
    __table_args__ = (PrimaryKeyConstraint("store_id", "month", "channel"),)

    #: The first day of the store-local month.
    month: Mapped[date] = mapped_column(primary_key=True)
