"""The themes page and the comment search by theme, through the test client: shares with
their n, greyed below the minimum n, each theme linking to its comments; the search
returns only comments of the theme and never another store's."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from portal.models import Role
from tests.portal.themes.rows import classify_as


def at(day: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, 4, tzinfo=UTC)


@pytest.fixture
def stores(make_store):
    return make_store("SH-001", region="华东"), make_store("BJ-009", region="华北")


@pytest.fixture
def said(db_session, make_response):
    def make(store, text, when, themes, sentiment="neutral"):
        response = make_response(store, comment=text, now=when)
        return classify_as(db_session, response, themes, sentiment)

    return make


@pytest.fixture
def manager(make_user, stores):
    return make_user(Role.MANAGER, stores=[stores[0]])


def test_themes_page_shows_each_themes_share_with_n_and_links_to_its_comments(
    client, login_as, manager, stores, said
):
    for day in range(1, 5):
        said(stores[0], f"排队 {day}", at(day), {"queue": "negative"})
    said(stores[0], "价格还行", at(6), {"price": "neutral"})
    said(stores[1], "北京排队", at(6), {"queue": "negative"})
    login_as(manager)

    html = client.get("/themes?store=SH-001&month=2026-03").get_data(as_text=True)

    row = re.search(r'<tr id="theme-queue".*?</tr>', html, re.S).group(0)
    assert "small-n" in row  # 5 classified comments: below the minimum n
    assert ">4<" in row and "80 %" in row and "n = 5" in row
    link = re.search(r'<td><a href="([^"]+)">', row).group(1).replace("&amp;", "&")
    assert link.startswith("/stores/SH-001?") and "theme=queue" in link
    found = client.get(link).get_data(as_text=True)
    assert found.count("排队 ") == 4 and "价格还行" not in found
    # The store picker names the manager's own store (and only it), chosen.
    picker = re.search(r'<select name="store">.*?</select>', html, re.S).group(0)
    assert '<option value="SH-001" selected>SH-001' in picker and "BJ-009" not in picker


def test_a_manager_cannot_open_another_stores_themes_or_see_its_comments(
    client, login_as, manager, stores, said
):
    said(stores[1], "北京排队太久", at(6), {"queue": "negative"})
    login_as(manager)

    assert client.get("/themes?store=BJ-009&month=2026-03").status_code == 404
    assert client.get("/stores/BJ-009?theme=queue&from=2026-03-01&to=2026-03-31").status_code == 404
    across = client.get("/themes/comments?theme=queue&month=2026-03").get_data(as_text=True)
    assert "北京排队太久" not in across
    chain = client.get("/themes?month=2026-03").get_data(as_text=True)
    assert 'id="theme-queue"' not in chain


def test_comment_search_by_theme_and_sentiment_returns_only_matching_comments(
    client, login_as, manager, stores, said
):
    said(stores[0], "排队太久了", at(2), {"queue": "negative"})
    said(stores[0], "排队很快", at(3), {"queue": "positive"})
    said(stores[0], "价格便宜", at(4), {"price": "positive"}, sentiment="positive")
    login_as(manager)
    base = "/stores/SH-001?from=2026-03-01&to=2026-03-31"

    by_theme = client.get(f"{base}&theme=queue").get_data(as_text=True)
    negative = client.get(f"{base}&theme=queue&sentiment=negative").get_data(as_text=True)
    overall = client.get(f"{base}&sentiment=positive").get_data(as_text=True)

    assert "排队太久了" in by_theme and "排队很快" in by_theme and "价格便宜" not in by_theme
    assert "排队太久了" in negative and "排队很快" not in negative
    assert "价格便宜" in overall and "排队太久了" not in overall and "排队很快" not in overall
    # Each comment carries its themes as labels.
    assert "排队与等候" in client.get(base).get_data(as_text=True)


def test_theme_comments_across_stores_are_masked_and_filtered_by_sentiment(
    client, login_as, make_user, stores, said
):
    said(stores[0], "排队太久 电话13812345678", at(2), {"queue": "negative"})
    said(stores[1], "排队还好", at(3), {"queue": "neutral"})
    login_as(make_user(Role.CX))

    html = client.get("/themes/comments?theme=queue&month=2026-03").get_data(as_text=True)
    negative = client.get("/themes/comments?theme=queue&month=2026-03&sentiment=negative").get_data(
        as_text=True
    )

    assert "排队还好" in html and "13812345678" not in html and "5678" in html
    assert "排队还好" not in negative
    assert client.get("/themes/comments?theme=nonsense&month=2026-03").status_code == 404


def test_a_month_that_is_not_a_month_is_refused_with_400(client, login_as, manager):
    login_as(manager)
    assert client.get("/themes?month=2026-13").status_code == 400
