"""Custom questions in the seeded world: versions 2 and 3 of the default survey (an A/B
test of two titles) with the custom questions of `tests.portal.dashboard.custom_answers`,
and answers to them for each store's latest responses, so that the store and chain pages
show their custom-question results and the comparison page has two versions to compare."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Response, Store
from tests.portal.dashboard.custom_answers import answer, publish_version, survey_document

#: The versions compared on `dashboard.compare_versions` in the walk.
COMPARED = {"survey": "receipt", "a": 2, "b": 3}


def add_custom_answers(session: Session, *, now: datetime, per_store: int = 8) -> None:
    v2 = publish_version(
        session, survey_document(), number=2, published_at=now - timedelta(days=20)
    )
    v3 = publish_version(
        session,
        survey_document(title_en="Tell us about today"),
        number=3,
        published_at=now - timedelta(days=19),
    )
    for store_id in session.scalars(select(Store.id)):
        latest = session.scalars(
            select(Response)
            # Answers of receipts: `answer` moves the receipt to the version too (a
            # tablet's or a call's answer, the newest at times, has none).
            .where(Response.store_id == store_id, Response.receipt_id.is_not(None))
            .order_by(Response.submitted_at.desc())
            .limit(per_store)
        ).all()
        for i, response in enumerate(latest):
            given: dict[str, object] = {
                "checkout_ease": 1 + i % 5,
                "departments": ["bakery", ("other", "花店")] if i % 3 else ["deli"],
                "self_checkout": i % 2 == 0,
            }
            if i % 4 == 0:
                given["suggestion"] = "多开几个收银台"
            answer(session, response, v2 if i % 2 else v3, given)
