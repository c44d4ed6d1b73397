"""Reading comment themes: how many classified comments of some stores and days mention
each theme (and how many of those speak of it negatively), the top themes of a month, and
the comments behind a theme, personal data masked.

Everything reads the rows the classifier writes when an answer is stored
(`CommentClassification`, one per classified comment, and `CommentTheme`, one per theme of
it). The denominator of a share is the classified comments: an answer without a comment
says nothing about what comments are about, and a comment not yet classified (before the
taxonomy was recomputed) is left out of both counts rather than counted as "no theme".
Days are store-local (``Response.local_day``), as on every other figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from analysis.categories import category_shares
from analysis.csat import wilson_interval
from analysis.results import Estimate
from portal.calendar import Period
from portal.channels import channel_condition
from portal.models import CommentClassification, CommentTheme, Response, Sentiment, Store
from portal.themes.words import THEMES
from surveys.privacy import mask_personal_data


@dataclass(frozen=True, slots=True)
class ThemeCounts:
    """The raw counts of one scope and period: classified comments, and per theme the
    comments mentioning it and how many of those negatively."""

    n: int
    mentions: dict[str, int]
    negative: dict[str, int]


@dataclass(frozen=True, slots=True)
class ThemeShareRow:
    """One theme in one scope and period.

    ``count`` of the ``n`` classified comments mention it; ``share`` is count/n on 0..1
    with its Wilson 95 % interval (n = the classified comments); ``negative`` of the
    ``count`` speak of it negatively, ``negative_share`` is negative/count with its
    interval (n = count)."""

    key: str
    count: int
    n: int
    share: Estimate
    negative: int
    negative_share: Estimate


@dataclass(frozen=True, slots=True)
class ThemeComment:
    """A comment that mentions a theme, its personal data masked."""

    response_id: int
    store_code: str
    store_name: str
    submitted_at: datetime
    #: How the comment speaks of the theme (`portal.models.Sentiment`).
    sentiment: str
    text: str
    nps: int
    csat: int


def _in_scope(
    stmt: Select[Any], store_ids: Sequence[int], period: Period, channels: Sequence[str]
) -> Select[Any]:
    return stmt.where(
        Response.store_id.in_(list(store_ids)),
        Response.local_day >= period.start,
        Response.local_day <= period.end,
        channel_condition(Response.channel, channels),
    )


def count_themes(
    session: Session, store_ids: Sequence[int], period: Period, channels: Sequence[str] = ()
) -> ThemeCounts:
    """Classified comments and theme mentions of ``store_ids`` over ``period`` (store-local
    days, both ends included), of the answers of ``channels`` (none: every channel). Two
    aggregate queries, whatever the number of comments."""
    if not store_ids:
        return ThemeCounts(0, {}, {})
    n = session.scalar(
        _in_scope(
            select(func.count())
            .select_from(CommentClassification)
            .join(Response, Response.id == CommentClassification.response_id),
            store_ids,
            period,
            channels,
        )
    )
    negative = func.count().filter(CommentTheme.sentiment == Sentiment.NEGATIVE.value)
    rows = session.execute(
        _in_scope(
            select(CommentTheme.theme, func.count(), negative)
            .join(Response, Response.id == CommentTheme.response_id)
            .group_by(CommentTheme.theme),
            store_ids,
            period,
            channels,
        )
    ).all()
    return ThemeCounts(
        n=int(n or 0),
        mentions={theme: int(count) for theme, count, _neg in rows},
        negative={theme: int(neg) for theme, _count, neg in rows},
    )


def share_rows(counts: ThemeCounts) -> list[ThemeShareRow]:
    """Each mentioned theme's share of the classified comments with its Wilson interval,
    most mentioned first (then by key)."""
    # A theme counted more often than there are classified comments cannot happen with
    # the classifier's rows; clamp so that a hand-made row never fails a page.
    total = max(counts.n, max(counts.mentions.values(), default=0))
    return [
        ThemeShareRow(
            key=share.key,
            count=share.count,
            n=total,
            share=share.share,
            negative=counts.negative.get(share.key, 0),
            negative_share=wilson_interval(counts.negative.get(share.key, 0), share.count),
        )
        for share in category_shares(counts.mentions, total=total)
    ]


def top_themes(
    session: Session,
    store_ids: Sequence[int],
    month_start: date,
    month_end: date,
    *,
    limit: int = 5,
) -> list[ThemeShareRow]:
    """The ``limit`` themes most often mentioned in the comments of ``store_ids`` between
    the store-local days ``month_start`` and ``month_end`` (both included), most mentioned
    first; each with its share of the classified comments (Wilson interval) and its
    negative count. Empty when no comment mentions a theme."""
    counts = count_themes(session, store_ids, Period(month_start, month_end))
    return share_rows(counts)[:limit]


def theme_comments(
    store_ids: Sequence[int],
    theme: str,
    period: Period,
    *,
    sentiment: str = "",
    channels: Sequence[str] = (),
) -> Select[Any]:
    """The comments of ``store_ids`` over ``period`` that mention ``theme`` (spoken of with
    ``sentiment``, if given): negative ones first, then the newest. Paginate the result or
    read it with `mentions_of`."""
    condition = and_(CommentTheme.response_id == Response.id, CommentTheme.theme == theme)
    if sentiment:
        condition = and_(condition, CommentTheme.sentiment == sentiment)
    return _in_scope(
        select(
            Response.id,
            Store.code,
            Store.name,
            Response.submitted_at,
            CommentTheme.sentiment,
            Response.comment,
            Response.nps,
            Response.csat,
        )
        .join(CommentTheme, condition)
        .join(Store, Store.id == Response.store_id)
        .where(Response.comment.is_not(None))
        .order_by(
            # False sorts before True: the negative mentions first.
            CommentTheme.sentiment != Sentiment.NEGATIVE.value,
            Response.submitted_at.desc(),
            Response.id.desc(),
        ),
        store_ids,
        period,
        channels,
    )


def mentions_of(rows: Sequence[Any]) -> list[ThemeComment]:
    """Rows of `theme_comments` as `ThemeComment`, each comment's personal data masked
    (`surveys.privacy.mask_personal_data`: phone numbers, e-mail addresses)."""
    return [
        ThemeComment(
            response_id=row[0],
            store_code=row[1],
            store_name=row[2],
            submitted_at=row[3],
            sentiment=row[4],
            text=mask_personal_data(row[5]),
            nps=row[6],
            csat=row[7],
        )
        for row in rows
    ]


def example_comments(
    session: Session,
    store_ids: Sequence[int],
    theme: str,
    month_start: date,
    month_end: date,
    limit: int = 3,
) -> list[ThemeComment]:
    """Up to ``limit`` different comments of ``store_ids`` between the store-local days
    ``month_start`` and ``month_end`` (both included) that mention ``theme``: negative
    mentions first (what to improve), then the newest; personal data masked. The same
    words written twice are shown once: an example should add something."""
    if not store_ids:
        return []
    # Read a bounded number: a month may hold thousands of comments on a theme.
    stmt = theme_comments(store_ids, theme, Period(month_start, month_end)).limit(limit * 20)
    examples: list[ThemeComment] = []
    seen: set[str] = set()
    for mention in mentions_of(session.execute(stmt).all()):
        if mention.text.strip() not in seen:
            seen.add(mention.text.strip())
            examples.append(mention)
    return examples[:limit]
    return examples


def has_theme(theme: str, sentiment: str = "") -> Any:
    """SQL: the response (``Response``) has a comment classified with ``theme`` (spoken of
    with ``sentiment``, if given); with only ``sentiment``, the comment's overall
    sentiment. The one theme condition of the comment search."""
    if theme:
        condition = and_(CommentTheme.response_id == Response.id, CommentTheme.theme == theme)
        if sentiment:
            condition = and_(condition, CommentTheme.sentiment == sentiment)
        return exists().where(condition)
    return exists().where(
        CommentClassification.response_id == Response.id,
        CommentClassification.sentiment == sentiment,
    )


def themes_of(session: Session, response_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """The themes of each response's comment, in the taxonomy's order (one query)."""
    if not response_ids:
        return {}
    stmt = select(CommentTheme.response_id, CommentTheme.theme).where(
        CommentTheme.response_id.in_(list(response_ids))
    )
    found: dict[int, list[str]] = {}
    for response_id, theme in session.execute(stmt):
        found.setdefault(response_id, []).append(theme)
    order = {key: i for i, key in enumerate(THEMES)}
    return {
        rid: tuple(sorted(keys, key=lambda k: (order.get(k, len(order)), k)))
        for rid, keys in found.items()
    }


def theme_hits_of(session: Session, response_id: int) -> list[tuple[str, str]]:
    """A response's comment themes, each with its sentiment: ``(theme, sentiment)``."""
    stmt = select(CommentTheme.theme, CommentTheme.sentiment).where(
        CommentTheme.response_id == response_id
    )
    return [(theme, sentiment) for theme, sentiment in session.execute(stmt)]
