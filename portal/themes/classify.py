"""Storing what a comment is about: `CommentClassification` and `CommentTheme` rows.

Called where every channel's answer passes (`portal.shopper.operations._follow_through`),
where a paper card's correction may change the comment, and by ``reclassify-comments``.
The classifier itself is pure (`analysis.themes`); this module only writes its result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import Session

from analysis.themes import TAXONOMY_VERSION, Classification, classify
from portal.db import utcnow
from portal.models import CommentClassification, CommentTheme, Response


def warm_up() -> None:
    """Load the tokenizer and the taxonomy now (a second or more, once per process), so
    that the first shopper who leaves a comment does not wait for it."""
    classify("排队")


def classify_response(
    session: Session, response: Response, *, now: datetime | None = None, new: bool = False
) -> None:
    """Write ``response``'s comment themes and sentiment in place of any it had (``new``:
    it was stored in this transaction, so it has none to replace).

    A response without a comment (or whose comment is only spaces) gets no rows. Writes
    through Core on the session's connection (``response`` must be flushed); a few
    milliseconds (the tokenizer's one-time load aside).
    """
    if not new:
        session.execute(delete(CommentTheme).where(CommentTheme.response_id == response.id))
        session.execute(
            delete(CommentClassification).where(CommentClassification.response_id == response.id)
        )
    comment = (response.comment or "").strip()
    if comment:
        _write(session, [(response.id, response.store_id, response.submitted_at, comment)], now)
    if not new:
        session.flush()


def _write(
    session: Session,
    rows: Sequence[tuple[int, int, datetime, str]],
    now: datetime | None,
) -> None:
    at = now or utcnow()
    classifications, themes = [], []
    seen: dict[str, Classification] = {}  # demo and short comments repeat
    for response_id, store_id, answered_at, comment in rows:
        result = seen.get(comment) or seen.setdefault(comment, classify(comment))
        classifications.append(
            {
                "response_id": response_id,
                "sentiment": result.sentiment,
                "taxonomy_version": TAXONOMY_VERSION,
                "classified_at": at,
            }
        )
        themes += [
            {
                "response_id": response_id,
                "theme": hit.theme,
                "sentiment": hit.sentiment,
                "store_id": store_id,
                "answered_at": answered_at,
            }
            for hit in result.themes
        ]
    # The tables, not the mapped classes: plain Core inserts skip the ORM's bulk path.
    connection = session.connection()
    if classifications:
        connection.execute(_CLASSIFICATIONS.insert(), classifications)
    if themes:
        connection.execute(_THEMES.insert(), themes)


_CLASSIFICATIONS: Any = CommentClassification.__table__
_THEMES: Any = CommentTheme.__table__


@dataclass(frozen=True, slots=True)
class Batch:
    """One batch of ``reclassify-comments``: how many answers, and the last id done."""

    count: int
    last_id: int


def _stale_condition(everything: bool) -> ColumnElement[bool]:
    has_comment = func.length(func.trim(Response.comment)) > 0
    if everything:
        return has_comment
    return has_comment & or_(
        CommentClassification.response_id.is_(None),
        CommentClassification.taxonomy_version < TAXONOMY_VERSION,
    )


def count_to_reclassify(session: Session, *, everything: bool = False) -> int:
    """Answers with a comment not yet classified by this taxonomy version (or all)."""
    stmt = (
        select(func.count())
        .select_from(Response)
        .outerjoin(CommentClassification, CommentClassification.response_id == Response.id)
        .where(_stale_condition(everything))
    )
    return session.scalar(stmt) or 0


def reclassify_batch(
    session: Session,
    *,
    after_id: int = 0,
    size: int = 500,
    everything: bool = False,
    now: datetime | None = None,
) -> Batch:
    """Classify again the next ``size`` answers after ``after_id`` (by id) whose comment
    was classified by an older taxonomy version or not at all (``everything``: all with a
    comment). Flushes; the caller commits each batch, so a stopped run resumes where it was.
    """
    rows = session.execute(
        select(Response.id, Response.store_id, Response.submitted_at, Response.comment)
        .outerjoin(CommentClassification, CommentClassification.response_id == Response.id)
        .where(Response.id > after_id, _stale_condition(everything))
        .order_by(Response.id)
        .limit(size)
    ).all()
    if not rows:
        return Batch(0, after_id)
    ids = [row.id for row in rows]
    session.execute(delete(CommentTheme).where(CommentTheme.response_id.in_(ids)))
    session.execute(delete(CommentClassification).where(CommentClassification.response_id.in_(ids)))
    _write(
        session, [(r.id, r.store_id, r.submitted_at, (r.comment or "").strip()) for r in rows], now
    )
    session.flush()
    return Batch(len(rows), ids[-1])
