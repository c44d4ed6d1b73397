"""The monthly service review and what feeds it: targets per metric and scope, the themes
of comments, the archived reviews, alert rules and the alerts they raised, and trainings.

A target, an alert rule and a review each have a scope: the whole chain (no region and no
store), one region or one store. ``scope_key`` spells the scope as one string
(``chain``, ``region:<id>``, ``store:<id>``) so that a unique constraint can hold on it:
NULLs never collide in a unique index, so the two nullable columns could not.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, intpk, utcnow
from portal.models.accounts import User
from portal.models.org import Region, Staff, Store


class Metric(StrEnum):
    """A figure that can have a target or an alert rule, in its display unit."""

    #: Net Promoter Score, -100..100 points; higher is better.
    NPS = "nps"
    #: Percent of 4-5 answers on the 1-5 satisfaction question; higher is better.
    CSAT = "csat"
    #: Cases opened per 100 receipts issued (percent of transactions); lower is better.
    COMPLAINT_RATE = "complaint_rate"
    #: Percent of cases first answered by their deadline; higher is better.
    FIRST_RESPONSE = "first_response"
    #: Percent of cases whose customer said the problem was solved; higher is better.
    RECOVERY_RATE = "recovery_rate"
    #: Mean mystery-visit score, percent; higher is better.
    MYSTERY_SCORE = "mystery_score"


#: The metrics where a smaller figure is the better one.
LOWER_IS_BETTER = frozenset({Metric.COMPLAINT_RATE})


def scope_key_of(region_id: int | None, store_id: int | None) -> str:
    if store_id is not None:
        return f"store:{store_id}"
    if region_id is not None:
        return f"region:{region_id}"
    return "chain"


class Target(Base):
    """A target for one metric over one scope, in force from ``effective_from`` until the
    next target of the same metric and scope takes over. A store is judged by its own
    target, else its region's, else the chain's."""

    __tablename__ = "targets"
    __table_args__ = (
        UniqueConstraint("metric", "scope_key", "effective_from"),
        CheckConstraint("region_id IS NULL OR store_id IS NULL", name="one_scope"),
    )

    id: Mapped[intpk]
    metric: Mapped[str] = mapped_column(String(24))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"))
    store_id: Mapped[int | None] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), index=True
    )
    scope_key: Mapped[str] = mapped_column(String(40))
    #: In the metric's display unit (see `Metric`): at least this, or for a metric in
    #: `LOWER_IS_BETTER` below this.
    value: Mapped[float] = mapped_column(Float)
    effective_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    region: Mapped[Region | None] = relationship()
    store: Mapped[Store | None] = relationship()


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class CommentClassification(Base):
    """A comment's overall sentiment, and which taxonomy version classified it (so that a
    changed taxonomy can tell which answers to classify again). Its themes are rows of
    `CommentTheme`; a comment with no theme still has this row."""

    __tablename__ = "comment_classifications"

    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    sentiment: Mapped[str] = mapped_column(String(8))
    taxonomy_version: Mapped[int] = mapped_column(SmallInteger)
    classified_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommentTheme(Base):
    """One theme of one comment, with the sentiment it was spoken of. The store and the
    answer's time are copied from the response (they never change) so that theme shares per
    store and month read one index."""

    __tablename__ = "comment_themes"
    __table_args__ = (
        Index("ix_comment_themes_store_answered", "store_id", "answered_at"),
        Index("ix_comment_themes_theme", "theme"),
    )

    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    theme: Mapped[str] = mapped_column(String(32), primary_key=True)
    sentiment: Mapped[str] = mapped_column(String(8))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    answered_at: Mapped[datetime]


class MonthlyReview(Base):
    """The service review of one store or one region for one month, as generated on the
    first day of the next month: its contents frozen as JSON (so the archive shows what was
    sent, whatever changes later), rendered as a page and a PDF in each reader's language."""

    __tablename__ = "monthly_reviews"
    __table_args__ = (
        UniqueConstraint("scope_key", "month"),
        CheckConstraint("(region_id IS NULL) <> (store_id IS NULL)", name="store_or_region"),
    )

    id: Mapped[intpk]
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"))
    store_id: Mapped[int | None] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), index=True
    )
    scope_key: Mapped[str] = mapped_column(String(40))
    #: The first day of the month reviewed.
    month: Mapped[date] = mapped_column(Date, index=True)
    content: Mapped[dict[str, object]] = mapped_column(JSON)
    generated_at: Mapped[datetime] = mapped_column(default=utcnow)
    mailed_at: Mapped[datetime | None]

    region: Mapped[Region | None] = relationship()
    store: Mapped[Store | None] = relationship()


class AlertKind(StrEnum):
    #: The period's figure is on the wrong side of the rule's threshold.
    THRESHOLD = "threshold"
    #: A control-chart signal: Laney p' limits (a single period out) or an EWMA (a small
    #: sustained shift).
    CONTROL_CHART = "control_chart"


class AlertRule(Base):
    """What breaks a store's figure: a metric over a scope (every store of the chain, of a
    region, or one store), judged each week by a threshold or a control chart."""

    __tablename__ = "alert_rules"
    __table_args__ = (CheckConstraint("region_id IS NULL OR store_id IS NULL", name="one_scope"),)

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(100))
    metric: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(16))
    #: The threshold in the metric's display unit (for `AlertKind.THRESHOLD` only).
    threshold: Mapped[float | None] = mapped_column(Float)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"))
    store_id: Mapped[int | None] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    region: Mapped[Region | None] = relationship()
    store: Mapped[Store | None] = relationship()


class Alert(Base):
    """One break of one rule at one store in one period. The unique constraint is what
    makes an alert go out once, however often (and on however many workers) the check
    runs."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("rule_id", "store_id", "period_start", "signal"),)

    id: Mapped[intpk]
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    #: ``threshold``, ``laney_above``, ``laney_below``, ``ewma_above``, ``ewma_below``.
    signal: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    limit_value: Mapped[float | None] = mapped_column(Float)
    n: Mapped[int] = mapped_column(default=0)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    rule: Mapped[AlertRule] = relationship()
    store: Mapped[Store] = relationship()


class AlertRecipient(Base):
    """Who an alert went to: mailed once (``mailed_at``) and shown on their home page
    until they dismiss it."""

    __tablename__ = "alert_recipients"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    mailed_at: Mapped[datetime | None]
    dismissed_at: Mapped[datetime | None]

    alert: Mapped[Alert] = relationship()
    user: Mapped[User] = relationship()


class TrainingState(StrEnum):
    ASSIGNED = "assigned"
    DONE = "done"
    CANCELLED = "cancelled"


class Training(Base):
    """A training HR assigned to one member of staff (usually from the coaching list) and
    later marked done; its effect is read from the weeks before and after ``trained_on``."""

    __tablename__ = "trainings"

    id: Mapped[intpk]
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(100))
    #: A mystery-checklist touchpoint key (greeting, needs, ...) or "" when none.
    touchpoint: Mapped[str] = mapped_column(String(16), default="", server_default="")
    trained_on: Mapped[date] = mapped_column(Date)
    trainer: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    state: Mapped[str] = mapped_column(String(16), default=TrainingState.ASSIGNED)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    done_at: Mapped[datetime | None]
    done_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Bumped on every change: of two HR reviewers changing it at once, one is refused.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    staff: Mapped[Staff] = relationship()
