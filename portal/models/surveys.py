"""Surveys the business writes: the survey and its draft, which survey a receipt gets,
custom answers and their rollup, and the chain's branding.

A survey's published versions are `SurveyVersion` rows (immutable, pinned by content
hash); the editable draft lives on the survey until it is published.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, intpk, utcnow

#: The key of the default survey: version 1 is ``surveys/library/receipt.yaml``, and it is
#: the survey of every store no targeting rule names.
DEFAULT_SURVEY_KEY = "receipt"


class Survey(Base):
    """A survey the customer-experience team owns: its published versions and its draft."""

    __tablename__ = "surveys"

    id: Mapped[intpk]
    #: Stable key, also the ``survey`` a POS may name when it issues a receipt. Its name
    #: on the survey list is the title of its latest version (or of its draft).
    key: Mapped[str] = mapped_column(String(64), unique=True)
    #: The editable next version (the definition document), ``None`` when there is none.
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Bumped on every save of the draft: a save based on an older revision is refused
    #: rather than overwriting a colleague's edit.
    draft_revision: Mapped[int] = mapped_column(default=0, server_default="0")
    draft_updated_at: Mapped[datetime | None]
    draft_updated_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TargetRule(Base):
    """Which survey the receipts of some stores get, possibly for some dates only, possibly
    split between two versions (an A/B test).

    Scope: one store, a region, a store format, or (all empty) the whole chain. The most
    specific rule that applies on the receipt's day wins (`portal.targeting`); rules that
    would tie for a store are refused when saved.
    """

    __tablename__ = "target_rules"
    __table_args__ = (
        CheckConstraint("percent_b BETWEEN 0 AND 100", name="percent_b_range"),
        CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR starts_on <= ends_on", name="dates"
        ),
    )

    id: Mapped[intpk]
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    region: Mapped[str | None] = mapped_column(String(100))
    store_format: Mapped[str | None] = mapped_column(String(20))
    #: Store-local days, inclusive; ``None`` means open-ended.
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    #: An A/B test: receipts get version A or B (``percent_b`` % of them B). Without it,
    #: receipts get the survey's latest published version.
    version_a_id: Mapped[int | None] = mapped_column(ForeignKey("survey_versions.id"))
    version_b_id: Mapped[int | None] = mapped_column(ForeignKey("survey_versions.id"))
    percent_b: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class ResponseAnswer(Base):
    """One answer to a custom question: a number (scale, yes/no as 1/0), a choice key, or
    text. A multiple-choice answer is one row per ticked choice; "other" is the choice
    `surveys.definitions.OTHER` with what the shopper typed in ``text``."""

    __tablename__ = "response_answers"
    __table_args__ = (
        Index("ix_response_answers_response_id", "response_id"),
        Index("ix_response_answers_question_choice", "question_key", "choice"),
    )

    id: Mapped[intpk]
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(64))
    number: Mapped[int | None]
    choice: Mapped[str | None] = mapped_column(String(64))
    #: Stored verbatim; escaped wherever it is shown.
    text: Mapped[str | None] = mapped_column(Text)


#: The ``value`` of the row that counts the respondents of a question (its n).
RESPONDENTS = ""


class QuestionDailyCount(Base):
    """Answers to a custom question per survey, store and day: the row with ``value`` ""
    counts respondents (n); the others count each choice key, scale point ("1".."10") or
    yes/no ("yes", "no"). Kept on write like the other rollups, so charts of custom
    questions cost days x stores, not answers."""

    __tablename__ = "question_daily_counts"
    __table_args__ = (
        PrimaryKeyConstraint("survey_id", "question_key", "store_id", "day", "channel", "value"),
        Index("ix_question_daily_counts_store_id_day", "store_id", "day"),
    )

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    day: Mapped[date]
    #: The channel of the answers counted (`portal.models.Channel`).
    channel: Mapped[str] = mapped_column(String(8), server_default="receipt")
    value: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(default=0)


class Branding(Base):
    """The chain's look on the shopper pages: one row (id 1)."""

    __tablename__ = "branding"

    id: Mapped[intpk]
    chain_name_zh: Mapped[str] = mapped_column(String(100), default="", server_default="")
    chain_name_en: Mapped[str] = mapped_column(String(100), default="", server_default="")
    #: The logo re-encoded by the portal (PNG), never the uploaded bytes.
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: SHA-256 of ``logo_png``: the logo's URL, so that it can be cached for ever.
    logo_sha256: Mapped[str | None] = mapped_column(String(64))
    #: ``#rrggbb``, used for headings and as the background of white button text, so it
    #: must reach WCAG AA (4.5:1) against white; ``None`` keeps the portal's own colour.
    primary_colour: Mapped[str | None] = mapped_column(String(7))
    updated_at: Mapped[datetime | None]
    updated_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
