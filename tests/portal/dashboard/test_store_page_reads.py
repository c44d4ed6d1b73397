"""The store page's faster reads give the figures of the plain ones they replace, on a small
chain of several stores, weeks, staff and channels: one comment page without sorting the
whole period (`comments.comment_page` against `paginate` over `comments.comments`), the
rest of the chain from its NPS and CSAT columns alone (`queries.score_counts` against
`queries.totals`), the key-driver sample, the problem categories and the receipt funnel
by day part (against the raw rows, counted in Python)."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.calendar import Period, local_today
from portal.dashboard import comments, queries
from portal.dashboard.comments import CommentFilter
from portal.db import utcnow
from portal.models import Receipt, Response, Role
from portal.models.rollups import RATING_KEYS
from portal.pagination import paginate
from tests.portal.custom_answers import VISIT_NOTE, answer, publish_version, receipt_document

CATEGORIES = ("checkout_wait", "price", "service_attitude")
WORDS = ("排队太久", "价格贵", "服务很好", "收银快", "100% 满意", "a_b")


@pytest.fixture
def chain(db_session, make_store, make_staff, make_response, make_receipt):
    """Three stores, two cashiers each, answers over 80 days through two channels, some
    with a comment, a category or a custom text answer, and unanswered receipts."""
    rng = random.Random(15)
    version = publish_version(db_session, receipt_document(VISIT_NOTE), utcnow())
    stores = [make_store(code) for code in ("SH-001", "BJ-002", "GZ-003")]
    staff = {s.id: [make_staff(s, f"{s.code[:2]}{i}") for i in range(2)] for s in stores}
    for n in range(150):
        store = stores[n % 3]
        when = utcnow() - timedelta(days=rng.randrange(80), minutes=rng.randrange(1440))
        response = make_response(
            store,
            rng.choice(staff[store.id]),
            nps=rng.randrange(11),
            csat=rng.randrange(1, 6),
            ratings={f"rating_{k}": rng.randrange(1, 6) for k in RATING_KEYS if rng.random() < 0.8},
            category=rng.choice((None, None, *CATEGORIES)),
            comment=rng.choice(WORDS) if rng.random() < 0.6 else None,
            now=when,
            receipt_age=timedelta(minutes=rng.randrange(1, 600)),
        )
        if n % 4 == 0:
            response.channel = "code"
        if n % 5 == 0:
            answer(db_session, response, version, visit_note=rng.choice(WORDS))
    for n in range(40):
        store = stores[n % 3]
        when = utcnow() - timedelta(days=rng.randrange(80), hours=rng.randrange(24))
        make_receipt(store, rng.choice(staff[store.id]), now=when)
    db_session.flush()
    return stores


def periods() -> list[Period]:
    today = local_today("Asia/Shanghai", utcnow())
    return [Period(today - timedelta(days=days - 1), today) for days in (7, 30, 90, 365)] + [
        Period(today - timedelta(days=45), today - timedelta(days=10))
    ]


FILTERS = [
    CommentFilter(),
    CommentFilter(text="排队"),
    CommentFilter(text="%"),
    CommentFilter(text="_"),
    CommentFilter(group="detractor"),
    CommentFilter(group="promoter", category="price"),
    CommentFilter(question=comments.COMMENT_QUESTION),
    CommentFilter(question="visit_note"),
    CommentFilter(channels=("code",)),
]


def test_a_comment_page_holds_the_rows_of_the_whole_search(db_session, chain):
    seen = 0
    keys = comments.text_questions(db_session).keys()
    assert list(keys) == ["visit_note"]
    for store in chain:
        for period in periods():
            for filters in [*FILTERS, CommentFilter(staff_code=f"{store.code[:2]}1")]:
                whole = db_session.execute(comments.comments(store.id, period, filters)).all()
                for number in range(1, len(whole) // 7 + 3):
                    old = paginate(
                        db_session, comments.comments(store.id, period, filters), number, 7
                    )
                    new = comments.comment_page(
                        db_session, store.id, period, filters, number, 7, keys
                    )
                    assert (new.total, new.number, new.per_page) == (
                        old.total,
                        old.number,
                        old.per_page,
                    )
                    assert [tuple(r) for r in new.items] == [tuple(r) for r in old.items]
                    seen += len(new.items)
    assert seen > 500  # the world has comments and text answers on most pages


def test_the_rest_of_the_chain_reads_the_same_scores(db_session, chain):
    for period in periods():
        for channels in ((), ("receipt",), ("code",)):
            for ids in (None, [chain[0].id], [s.id for s in chain[1:]]):
                full = queries.totals(db_session, ids, period, channels)
                assert queries.score_counts(db_session, ids, period, channels) == full.scores
                assert full.scores.nps == full.nps
                assert (full.scores.csat_top2, full.scores.csat_n) == (full.csat_top2, full.csat_n)
    rest = (
        queries.score_counts(db_session, None, periods()[3])
        - queries.totals(db_session, [chain[0].id], periods()[3]).scores
    )
    others = queries.totals(db_session, [s.id for s in chain[1:]], periods()[3])
    assert rest == others.scores and others.responses > 0


def _in(period: Period, day: date) -> bool:
    return period.start <= day <= period.end


def test_the_driver_sample_is_the_newest_answers_of_the_period(db_session, chain, monkeypatch):
    monkeypatch.setattr(queries, "DRIVER_SAMPLE", 9)
    rows = db_session.scalars(select(Response)).all()
    for store in chain:
        for period in periods():
            for channels in ((), ("code",)):
                wanted = sorted(
                    (
                        r
                        for r in rows
                        if r.store_id == store.id
                        and _in(period, r.local_day)
                        and (not channels or r.channel in channels)
                    ),
                    key=lambda r: (r.submitted_at, r.id),
                    reverse=True,
                )[:9]
                expected = [
                    (r.nps, *(getattr(r, f"rating_{k}") for k in RATING_KEYS)) for r in wanted
                ]
                assert queries.driver_rows(db_session, store.id, period, channels) == expected


def test_categories_and_the_funnel_by_day_part_count_the_raw_rows(db_session, chain):
    responses = db_session.scalars(select(Response)).all()
    receipts = db_session.scalars(select(Receipt)).all()
    for store in chain:
        for period in periods():
            for channels in ((), ("receipt",)):
                expected: dict[str, int] = {}
                for r in responses:
                    if (
                        r.store_id == store.id
                        and _in(period, r.local_day)
                        and r.problem_category
                        and (not channels or r.channel in channels)
                    ):
                        expected[r.problem_category] = expected.get(r.problem_category, 0) + 1
                found = queries.category_counts(db_session, store.id, period, channels)
                assert found == expected
            parts = []
            for key, first, last in queries.DAY_PARTS:
                mine = [
                    r
                    for r in receipts
                    if r.store_id == store.id
                    and _in(period, r.local_day)
                    and first <= r.local_hour <= last
                ]
                parts.append((key, len(mine), sum(r.answered_at is not None for r in mine)))
            assert queries.funnel_by_day_part(db_session, store, period) == parts
    assert any(n for (_k, n, _a) in parts)


def test_the_store_page_pages_its_comments_newest_first(client, chain, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    first = client.get("/stores/SH-001?days=90&question=comment")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    shown = re.findall(r"page=(\d+)", html)
    assert "2" in shown  # more comments than one page of 20
    second = client.get("/stores/SH-001?days=90&question=comment&page=2")
    assert second.status_code == 200
    # Each page shows other comments: the first page's newest are not repeated.
    assert second.get_data(as_text=True) != html
