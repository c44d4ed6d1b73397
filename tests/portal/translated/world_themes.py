"""Comment themes in the translated world: the newest comments of every store classified
(as the classifier's store-time hook would, where it has not already), so that the themes
pages, the comment search's theme labels and the case list's themes have words to show."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import CommentClassification, CommentTheme, Response

#: Themes given in turn, with how the comment speaks of each.
_THEMES = (
    (("queue", "negative"), ("checkout", "negative")),
    (("staff_attitude", "positive"),),
    (("price", "neutral"), ("membership", "negative")),
    (),
)


def add_comment_themes(session: Session, per_store: int = 12) -> str:
    """Classify up to ``per_store`` of each store's newest unclassified comments; the
    month (``YYYY-MM``, store-local) of the newest comment."""
    unclassified = (
        select(Response)
        .where(Response.comment.is_not(None))
        .where(~Response.id.in_(select(CommentClassification.response_id)))
        .order_by(Response.store_id, Response.submitted_at.desc())
    )
    taken: dict[int, int] = {}
    newest = None
    for response in session.scalars(unclassified):
        done = taken.get(response.store_id, 0)
        if done >= per_store:
            continue
        taken[response.store_id] = done + 1
        themes = _THEMES[response.id % len(_THEMES)]
        overall = themes[0][1] if themes else "neutral"
        session.add(
            CommentClassification(response_id=response.id, sentiment=overall, taxonomy_version=1)
        )
        for theme, sentiment in themes:
            session.add(
                CommentTheme(
                    response_id=response.id,
                    theme=theme,
                    sentiment=sentiment,
                    store_id=response.store_id,
                    answered_at=response.submitted_at,
                )
            )
        newest = max(newest or response.local_day, response.local_day)
    session.flush()
    newest = newest or session.scalar(
        select(Response.local_day).order_by(Response.local_day.desc())
    )
    return "" if newest is None else newest.strftime("%Y-%m")
