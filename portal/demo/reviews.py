"""The demo's monthly service reviews: the chain's regions entered in its list of regions
(the demo stores name theirs, the list did not have them), then last month's reviews of
every store and region written and queued for mail by the job's own operations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.admin.regions import add_region
from portal.audit import CLI
from portal.calendar import last_complete_month
from portal.config import Settings
from portal.models import Region, Store
from portal.review.operations import generate_monthly_reviews, mail_reviews


@dataclass(frozen=True, slots=True)
class ReviewsDemo:
    reviews: int
    messages: int


def build_reviews_demo(session: Session, settings: Settings, *, now: datetime) -> ReviewsDemo:
    """Add the missing regions and last month's reviews (adds and flushes)."""
    named = set(session.scalars(select(Store.region).where(Store.region != "").distinct()))
    listed = set(session.scalars(select(Region.name)))
    for name in sorted(named - listed):
        add_region(session, name, actor=CLI, now=now)
    made = generate_monthly_reviews(
        session, settings, month=last_complete_month(session, now), now=now
    )
    return ReviewsDemo(reviews=len(made.created), messages=mail_reviews(session, settings, now=now))
