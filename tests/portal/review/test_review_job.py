"""The ``monthly-review`` job: last month's reviews of every open store and every region
with stores, written once however often (and on however many workers) it runs, and mailed
once to the store's and the region's managers in their own language."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal.models import OutboxMessage, Region, Role
from portal.models.review import MonthlyReview
from portal.review import operations
from portal.review.operations import generate_monthly_reviews
from tests.conftest import SETTINGS

FIRST_OF_APRIL = "2026-04-01T01:00:00+00:00"  # 09:00 in Shanghai


@pytest.fixture
def chain(db_session, make_store, make_user):
    db_session.add(Region(name="华东"))
    db_session.add(Region(name="西北"))  # no store: no review
    shop = make_store("SH-001", name="徐汇店", region="华东")
    make_store("SH-002", name="静安店", region="华东")
    make_store("CL-001", name="已关店", region="华东", closed_at=datetime(2025, 1, 1, tzinfo=UTC))
    manager = make_user(Role.MANAGER, stores=[shop], email="store@example.com", locale="en")
    regional = make_user(Role.MANAGER, email="region@example.com", locale="zh_CN", region="华东")
    db_session.flush()
    return manager, regional


def _reviews(db_session):
    return db_session.scalars(select(MonthlyReview).order_by(MonthlyReview.scope_key)).all()


def _mail(db_session):
    return db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_the_job_writes_last_months_reviews_and_mails_them_once(runner, db_session, chain):
    result = runner.invoke(args=["monthly-review", "--now", FIRST_OF_APRIL])
    assert result.exit_code == 0, result.output
    assert "2026-03: 3 review(s) written" in result.output

    reviews = _reviews(db_session)
    region = db_session.scalar(select(Region).where(Region.name == "华东"))
    assert [r.scope_key for r in reviews] == [
        f"region:{region.id}",
        *sorted(f"store:{r.store_id}" for r in reviews if r.store_id),
    ]
    assert {r.month for r in reviews} == {date(2026, 3, 1)}
    assert all(r.mailed_at is not None for r in reviews)

    mail = {m.to: m for m in _mail(db_session)}
    # SH-001's manager (in English) and the region's manager (in Chinese); SH-002 has none.
    assert set(mail) == {"store@example.com", "region@example.com"}
    store_review = next(r for r in reviews if r.store_id and r.content["store_codes"] == ["SH-001"])
    assert mail["store@example.com"].subject == "Monthly service review 2026-03 · SH-001 徐汇店"
    assert f"/reviews/{store_review.id}.pdf" in mail["store@example.com"].body
    assert mail["region@example.com"].subject == "月度服务回顾 2026-03 · 华东"

    again = runner.invoke(args=["monthly-review", "--now", "2026-04-02T01:00:00+00:00"])
    assert again.exit_code == 0, again.output
    assert "0 review(s) written, 3 existed" in again.output
    assert "0 message(s) queued" in again.output
    assert len(_mail(db_session)) == 2


def test_a_month_not_over_or_badly_written_is_refused(runner, chain):
    early = runner.invoke(args=["monthly-review", "--month", "2026-04", "--now", FIRST_OF_APRIL])
    assert early.exit_code != 0 and "not over yet" in early.output
    bad = runner.invoke(args=["monthly-review", "--month", "April"])
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output


def test_a_review_another_worker_wrote_meanwhile_is_skipped_not_doubled(
    db_session, chain, monkeypatch
):
    """Two workers at once: both find SH-001's review missing; the other one's insert
    lands first, so this one's fails on UNIQUE(scope_key, month) in its savepoint, is
    skipped, and the rest of the run goes on."""
    real_build = operations.build_review
    raced = []

    def build_while_another_worker_writes(session, settings, **kwargs):
        store = kwargs["store"]
        if store is not None and store.code == "SH-001" and not raced:
            raced.append(True)
            session.add(
                MonthlyReview(
                    store_id=store.id,
                    scope_key=f"store:{store.id}",
                    month=kwargs["month"],
                    content={"written_by": "the other worker"},
                )
            )
            session.flush()
        return real_build(session, settings, **kwargs)

    monkeypatch.setattr(operations, "build_review", build_while_another_worker_writes)
    now = datetime(2026, 4, 1, 1, tzinfo=UTC)
    made = generate_monthly_reviews(db_session, SETTINGS, month=date(2026, 3, 1), now=now)

    assert len(made.created) == 2
    reviews = _reviews(db_session)
    assert len(reviews) == 3
    theirs = [r for r in reviews if r.content.get("written_by")]
    assert len(theirs) == 1
