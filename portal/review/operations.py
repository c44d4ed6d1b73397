"""Making, archiving and mailing the monthly reviews.

`generate_monthly_reviews` writes the reviews of a month that do not exist yet: one per
open store and one per region with stores. ``UNIQUE(scope_key, month)`` decides a race:
each review is inserted in its own savepoint, so when two workers run the job at once the
second one's insert fails there and is skipped, and each review exists once.
`mail_reviews` then tells each review's readers once (the store's managers, the region's
managers), in their language, with the links to the page and the PDF; ``mailed_at`` is set
by a conditional UPDATE, so of two runs only one sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from portal.access import managers_of, region_managers
from portal.audit import Actor, record_audit
from portal.calendar import month_key
from portal.cases.notify import queue_mail
from portal.config import Settings
from portal.hr.policy import current_policy, parameters_of
from portal.hr.ranking import MonthRanking, rank_month
from portal.i18n import MailText, in_languages, mail_translations
from portal.models import Region, Store, User
from portal.models.review import MonthlyReview, scope_key_of
from portal.review.builder import build_review
from portal.review.content import from_json, to_json


@dataclass(frozen=True, slots=True)
class Generated:
    """What one run made: the new reviews, and how many existed already."""

    created: tuple[MonthlyReview, ...]
    existing: int


def review_scopes(session: Session) -> list[tuple[Store | None, Region | None]]:
    """Every open store, then every region that has an open store."""
    stores = session.scalars(select(Store).where(Store.closed_at.is_(None)).order_by(Store.code))
    open_regions = select(Store.region).where(Store.closed_at.is_(None))
    regions = session.scalars(
        select(Region).where(Region.name.in_(open_regions)).order_by(Region.name)
    )
    return [(s, None) for s in stores] + [(None, r) for r in regions]


def _scope_key(store: Store | None, region: Region | None) -> str:
    return scope_key_of(None if region is None else region.id, None if store is None else store.id)


def generate_monthly_reviews(
    session: Session, settings: Settings, *, month: date, now: datetime
) -> Generated:
    """Write the reviews of ``month`` (its first day) that do not exist yet.

    The chain's staff are ranked once for all the reviews. A review another run inserted
    meanwhile is skipped (its savepoint rolls back). Flushes only.
    """
    done = set(session.scalars(select(MonthlyReview.scope_key).where(MonthlyReview.month == month)))
    missing = [(s, r) for s, r in review_scopes(session) if _scope_key(s, r) not in done]
    ranking: MonthRanking | None = None
    created = []
    for store, region in missing:
        if ranking is None:
            policy = current_policy(session)
            ranking = rank_month(
                session, month, scope=policy.scope, parameters=parameters_of(policy)
            )
        content = build_review(
            session, settings, store=store, region=region, month=month, now=now, ranking=ranking
        )
        review = MonthlyReview(
            store_id=None if store is None else store.id,
            region_id=None if region is None else region.id,
            scope_key=_scope_key(store, region),
            month=month,
            content=to_json(content),
            generated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(review)
                session.flush()
        except IntegrityError:
            # Another worker wrote this review first: theirs stands, and is mailed once.
            continue
        created.append(review)
    return Generated(tuple(created), len(missing) - len(created) + len(done))


def regenerate_review(
    session: Session, settings: Settings, review: MonthlyReview, *, actor: Actor, now: datetime
) -> MonthlyReview:
    """Build ``review``'s content again from today's data (a correction after late data),
    recorded in the audit log. It is not mailed again."""
    content = build_review(
        session,
        settings,
        store=review.store,
        region=review.region,
        month=review.month,
        now=now,
    )
    review.content = to_json(content)
    review.generated_at = now
    session.flush()
    record_audit(
        session,
        actor,
        "review.regenerated",
        "monthly_review",
        review.id,
        now,
        scope=review.scope_key,
        month=month_key(review.month),
    )
    return review


def review_readers(session: Session, review: MonthlyReview) -> list[User]:
    """Who a review is mailed to: the active managers of its store, or the active managers
    whose region is its region."""
    if review.store_id is not None:
        return managers_of(session, review.store_id)
    assert review.region is not None
    return region_managers(session, review.region.name)


def mail_reviews(session: Session, settings: Settings, *, now: datetime) -> int:
    """Queue the mail of every review not mailed yet, once each; the number of messages."""
    pending = session.scalars(
        select(MonthlyReview).where(MonthlyReview.mailed_at.is_(None)).order_by(MonthlyReview.id)
    ).all()
    queued = 0
    for review in pending:
        claimed = session.execute(
            update(MonthlyReview)
            .where(MonthlyReview.id == review.id, MonthlyReview.mailed_at.is_(None))
            .values(mailed_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        set_committed_value(review, "mailed_at", now)
        for reader in review_readers(session, review):
            _queue_review_mail(session, settings, review, reader, now=now)
            queued += 1
    return queued


def _queue_review_mail(
    session: Session, settings: Settings, review: MonthlyReview, reader: User, *, now: datetime
) -> None:
    content = from_json(review.content)
    page = f"{settings.base_url}/reviews/{review.id}"
    names = {"month": month_key(review.month), "scope": content.scope_name}

    def write(locale: str) -> MailText:
        _ = mail_translations(locale).gettext
        subject = _("Monthly service review %(month)s · %(scope)s") % names
        lead = (
            _(
                "The service review of %(scope)s for %(month)s is ready: figures against "
                "targets, trends, cases, mystery visits, comments, service stars, coaching "
                "and trainings."
            )
            % names
        )
        links = _("Page: %(page)s\nPDF: %(pdf)s") % {"page": page, "pdf": f"{page}.pdf"}
        return MailText(subject, f"{lead}\n\n{links}")

    text = in_languages(reader, write)
    queue_mail(session, to=reader.email, subject=text.subject, body=text.body, now=now)
