"""Reads of the review archive: which reviews a user may open (a store's review by the one
store-visibility rule, `portal.access.visible_store_ids`; a region's review by the
manager's region), a page of them newest month first, and one by id."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, or_, select, true
from sqlalchemy.orm import Session, selectinload

from portal.access import CHAIN_WIDE, visible_store_ids
from portal.errors import NotFound
from portal.models import Region, User
from portal.models.review import MonthlyReview


class UnknownReview(NotFound):
    message = _l("No such review.")


def _visible(user: User) -> ColumnElement[bool]:
    """Chain-wide roles see every review; a manager their stores' and their region's."""
    if user.role in CHAIN_WIDE:
        return true()
    own_region = (
        MonthlyReview.region_id.in_(select(Region.id).where(Region.name == user.region))
        if user.region
        else MonthlyReview.id.is_(None)
    )
    return or_(
        and_(
            MonthlyReview.store_id.is_not(None),
            MonthlyReview.store_id.in_(visible_store_ids(user).scalar_subquery()),
        ),
        own_region,
    )


def visible_reviews(user: User) -> Select[Any]:
    """The reviews ``user`` may open, newest month first, regions before stores."""
    return (
        select(MonthlyReview)
        .where(_visible(user))
        .options(selectinload(MonthlyReview.store), selectinload(MonthlyReview.region))
        .order_by(
            MonthlyReview.month.desc(),
            MonthlyReview.region_id.is_(None),
            MonthlyReview.scope_key,
        )
    )


def get_review(session: Session, review_id: int, *, visible_to: User) -> MonthlyReview:
    """One review if ``user`` may open it (one answer for absent and hidden).

    Raises
    ------
    UnknownReview
        No such review, or not one ``visible_to`` may open.
    """
    review: MonthlyReview | None = session.scalar(
        visible_reviews(visible_to).where(MonthlyReview.id == review_id)
    )
    if review is None:
        raise UnknownReview()
    return review
