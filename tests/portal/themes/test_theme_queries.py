"""Theme shares and example comments read from comment_themes rows: counts, the classified
comments as the denominator, Wilson intervals, store-local months, masking, store scope."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from analysis.csat import wilson_interval
from portal.themes.queries import example_comments, top_themes
from tests.portal.themes.rows import classify_as

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def at(month: int, day: int, hour: int = 4) -> datetime:
    # 04:00 UTC is noon in Shanghai: the store-local day is the same day.
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def store(make_store):
    return make_store("SH-001")


@pytest.fixture
def said(db_session, make_response):
    """A comment of ``store`` at ``when``, classified with ``themes``."""

    def make(store, text, when, themes):
        return classify_as(db_session, make_response(store, comment=text, now=when), themes)

    return make


def test_top_themes_counts_shares_and_negatives_of_classified_comments(
    db_session, store, make_response, said
):
    # 10 classified comments in March: queue in 4 (3 negative), price in 2, none in 4.
    for i in range(10):
        response = make_response(store, comment=f"评论 {i}", now=at(3, 1 + i))
        themes = {}
        if i < 4:
            themes["queue"] = "negative" if i < 3 else "positive"
        if i in (4, 5):
            themes["price"] = "neutral"
        classify_as(db_session, response, themes)
    # Not counted: a comment in February, and an answer without a comment (never classified).
    said(store, "二月", at(2, 20), {"queue": "negative"})
    make_response(store, comment=None, now=at(3, 20))

    rows = top_themes(db_session, [store.id], *MARCH)

    assert [(r.key, r.count, r.n, r.negative) for r in rows] == [
        ("queue", 4, 10, 3),
        ("price", 2, 10, 0),
    ]
    assert rows[0].share == wilson_interval(4, 10)
    assert rows[0].negative_share == wilson_interval(3, 4)
    assert top_themes(db_session, [store.id], *MARCH, limit=1)[0].key == "queue"


def test_month_is_counted_in_the_stores_local_days(db_session, store, said):
    # 20:00 UTC on 31 March is 04:00 on 1 April in Shanghai: April's comment.
    said(store, "晚", at(3, 31, 20), {"queue": "negative"})
    assert top_themes(db_session, [store.id], *MARCH) == []
    assert top_themes(db_session, [store.id], date(2026, 4, 1), date(2026, 4, 30))[0].count == 1


def test_example_comments_are_masked_negative_first_and_of_the_given_stores(
    db_session, store, make_store, said
):
    other = make_store("BJ-009")
    said(store, "排队很快", at(3, 9), {"queue": "positive"})
    said(store, "排队太久 请打13812345678", at(3, 2), {"queue": "negative"})
    said(store, "价格贵", at(3, 10), {"price": "negative"})
    said(other, "别的店排队", at(3, 5), {"queue": "negative"})

    found = example_comments(db_session, [store.id], "queue", *MARCH)

    assert [c.sentiment for c in found] == ["negative", "positive"]
    assert "13812345678" not in found[0].text and "5678" in found[0].text
    assert {c.store_code for c in found} == {"SH-001"}
    assert len(example_comments(db_session, [store.id], "queue", *MARCH, limit=1)) == 1
    # The same words twice are one example.
    said(store, "排队很快", at(3, 11), {"queue": "positive"})
    again = example_comments(db_session, [store.id], "queue", *MARCH)
    assert [c.text for c in again].count("排队很快") == 1 and len(again) == 2
    assert example_comments(db_session, [], "queue", *MARCH) == []
