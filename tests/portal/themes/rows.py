"""Comment themes written as rows, as the classifier's store-time hook would write them, so
that the figures are tested on known counts rather than on the classifier's accuracy."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from portal.models import CommentClassification, CommentTheme, Response


def classify_as(
    session: Session, response: Response, themes: dict[str, str], sentiment: str = "neutral"
) -> Response:
    """Give ``response``'s comment exactly ``themes`` (theme -> sentiment), replacing
    whatever the classifier (if it ran) wrote."""
    session.execute(delete(CommentTheme).where(CommentTheme.response_id == response.id))
    session.execute(
        delete(CommentClassification).where(CommentClassification.response_id == response.id)
    )
    session.add(
        CommentClassification(response_id=response.id, sentiment=sentiment, taxonomy_version=1)
    )
    for theme, theme_sentiment in themes.items():
        session.add(
            CommentTheme(
                response_id=response.id,
                theme=theme,
                sentiment=theme_sentiment,
                store_id=response.store_id,
                answered_at=response.submitted_at,
            )
        )
    session.flush()
    return response
