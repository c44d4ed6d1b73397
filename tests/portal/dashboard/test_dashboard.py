"""Dashboards and the metrics API: figures from the rollup, scoping, periods, charts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.api_tokens.operations import create_api_token
from portal.audit import CLI
from portal.calendar import Period
from portal.dashboard.month_spans import split_by_months
from portal.dashboard.queries import (
    Totals,
    totals,
    totals_by_day,
    totals_by_month,
)
from portal.db import utcnow
from portal.models import Case, Role
from tests.conftest import post_form


def days_ago(days=1):
    """When an answer given ``days`` ago was submitted."""
    return utcnow() - timedelta(days=days)


@pytest.fixture
def shop(make_store, make_staff, make_response):
    """SH-001: 6 promoters, 2 passives, 2 detractors in the last 30 days (NPS 40)."""
    store = make_store("SH-001", name="徐汇店", region="华东")
    staff = make_staff(store, "S001", name="李娜")
    for nps, csat in [(10, 5)] * 6 + [(8, 4)] * 2 + [(3, 2)] * 2:
        make_response(
            store,
            staff,
            nps=nps,
            csat=csat,
            comment=f"score {nps}",
            category="price" if nps < 7 else None,
            ratings={"rating_speed": 5 if nps > 8 else 2},
            now=days_ago(1),
        )
    other = make_store("BJ-001", name="朝阳店", region="华北")
    make_response(
        other, make_staff(other, "S001"), nps=0, csat=1, comment="secret", now=days_ago(1)
    )
    return store, other


def test_store_page_shows_nps_and_csat_with_interval_and_n(client, shop, make_user, login_as):
    store, _ = shop
    login_as(make_user(Role.MANAGER, stores=[store]))
    page = client.get("/stores/SH-001?days=30", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # NPS = 100 * (6 - 2) / 10 = 40; CSAT = 8 of 10 answers are 4-5 = 80 %.
    assert '<span class="metric-value">40</span>' in html
    assert '<span class="metric-value">80 %</span>' in html
    assert "n = 10" in html
    assert "small-n" in html  # 10 answers are below the minimum n of 30
    assert "score 10" in html and "secret" not in html


def test_a_manager_cannot_open_another_store(client, shop, make_user, login_as):
    store, other = shop
    login_as(make_user(Role.MANAGER, stores=[store]))
    assert client.get("/stores/BJ-001").status_code == 404
    assert client.get("/stores/NOPE-1").status_code == 404
    assert client.get("/stores/BJ-001/nps.svg").status_code == 404
    assert client.get("/chain").status_code == 403


def test_comment_filters(client, shop, make_user, login_as):
    store, _ = shop
    login_as(make_user(Role.ADMIN))
    html = client.get("/stores/SH-001?group=detractor").get_data(as_text=True)
    assert "score 3" in html and "score 10" not in html
    html = client.get("/stores/SH-001?q=score+8").get_data(as_text=True)
    assert "score 8" in html and "score 3" not in html
    html = client.get("/stores/SH-001?category=price").get_data(as_text=True)
    assert "score 3" in html and "score 8" not in html
    # A LIKE wildcard typed by a manager is text: no comment contains "%".
    wildcard = client.get("/stores/SH-001?q=%25", headers={"Accept-Language": "en"})
    assert wildcard.status_code == 200
    assert "No comments match." in wildcard.get_data(as_text=True)


def test_a_comment_that_opened_a_case_links_to_it_for_those_who_follow_cases_up(
    client, db_session, shop, make_user, login_as
):
    store, _ = shop
    cases = db_session.scalars(select(Case).where(Case.store_id == store.id)).all()
    assert len(cases) == 2  # the two detractors ("score 3")
    login_as(make_user(Role.MANAGER, stores=[store]))
    html = client.get("/stores/SH-001?days=30", headers={"Accept-Language": "en"}).text
    comments = html[html.index('id="comments"') :]
    for case in cases:
        assert f'<a class="case-link" href="/cases/{case.id}">Case #{case.id}</a>' in comments
    assert comments.count('class="case-link"') == 2
    # The link sits on the comment that opened the case, not on a happy one.
    for item in comments.split("<li")[1:]:
        assert ("case-link" in item) == ("score 3" in item)
    # HR reads the comments but not the customers behind them: no case links.
    post_form(client, "/logout", {}, page="/home")
    login_as(make_user(Role.HR))
    html = client.get("/stores/SH-001?days=30").text
    assert "score 3" in html and "case-link" not in html and "/cases/" not in html


@pytest.mark.parametrize(
    "query",
    [
        "days=12",
        "days=x",
        "from=2026-13-01&to=2026-12-01",
        "from=2026-02-01&to=2026-01-01",
        "from=2020-01-01&to=2026-01-01",
        "from=2026-01-01",
    ],
)
def test_a_bad_period_is_a_400(client, shop, make_user, login_as, query):
    login_as(make_user(Role.ADMIN))
    assert client.get(f"/stores/SH-001?{query}").status_code == 400


def test_charts_are_svg_and_cached_by_etag(client, shop, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    for path in ("nps.svg", "csat.svg", "drivers.svg", "categories.svg"):
        first = client.get(f"/stores/SH-001/{path}")
        assert first.status_code == 200 and first.mimetype == "image/svg+xml"
        assert b"<svg" in first.data[:400]
        again = client.get(
            f"/stores/SH-001/{path}", headers={"If-None-Match": first.headers["ETag"]}
        )
        assert again.status_code == 304


def test_chain_page_greys_stores_below_min_n_and_ranks_none_of_them(
    client, shop, make_user, login_as
):
    login_as(make_user(Role.HR))
    page = client.get("/chain", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "SH-001" in html and "BJ-001" in html
    assert html.count('<tr class="small-n">') == 2
    region = client.get("/chain?region=华北").get_data(as_text=True)
    assert "BJ-001" in region and "SH-001 徐汇店</a>" not in region


def test_store_page_queries_do_not_grow_with_responses(
    client, shop, make_user, login_as, make_response, make_staff, count_queries
):
    store, _ = shop
    login_as(make_user(Role.ADMIN))
    client.get("/stores/SH-001")
    before = count_queries()
    client.get("/stores/SH-001")
    few = count_queries() - before
    staff = make_staff(store, "S777")
    for _ in range(40):
        make_response(store, staff, nps=9, csat=5, now=days_ago(1))
    before = count_queries()
    client.get("/stores/SH-001")
    assert count_queries() - before == few


def test_metrics_api_summary(client, db_session, shop, make_user):

    store, other = shop
    manager = make_user(Role.MANAGER, stores=[store])
    token = create_api_token(db_session, manager, actor=CLI, now=utcnow()).secret
    today = utcnow().date()
    query = f"store=SH-001&from={today - timedelta(days=40)}&to={today + timedelta(days=1)}"
    response = client.get(
        f"/api/v1/metrics/summary?{query}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["n"], body["promoters"], body["passives"], body["detractors"]) == (10, 6, 2, 2)
    assert body["nps"] == 40.0 and body["csat"] == 80.0
    assert body["nps_ci_low"] < 40 < body["nps_ci_high"]
    assert body["csat_ci_low"] < 80 < body["csat_ci_high"]
    hidden = client.get(
        f"/api/v1/metrics/summary?store=BJ-001&from={today}&to={today}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert hidden.status_code == 404
    assert client.get(f"/api/v1/metrics/summary?{query}").status_code == 401
    bad = client.get(
        "/api/v1/metrics/summary?store=SH-001&from=2026-99-01&to=2026-01-01",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_period"


def test_metrics_api_no_answers_gives_null_not_zero(client, db_session, make_store, make_user):

    make_store("EMPTY-1")
    token = create_api_token(db_session, make_user(Role.ADMIN), actor=CLI, now=utcnow()).secret
    body = client.get(
        "/api/v1/metrics/summary?store=EMPTY-1", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert body["n"] == 0 and body["nps"] is None and body["csat"] is None


@pytest.mark.parametrize(
    ("start", "end", "edges", "months"),
    [
        ("2026-01-01", "2026-12-31", [], ("2026-01-01", "2026-12-31")),
        (
            "2026-01-15",
            "2026-03-10",
            [("2026-01-15", "2026-01-31"), ("2026-03-01", "2026-03-10")],
            ("2026-02-01", "2026-02-28"),
        ),
        ("2026-01-15", "2026-01-20", [("2026-01-15", "2026-01-20")], None),
        ("2026-02-01", "2026-02-27", [("2026-02-01", "2026-02-27")], None),
        ("2026-01-31", "2026-02-28", [("2026-01-31", "2026-01-31")], ("2026-02-01", "2026-02-28")),
    ],
)
def test_a_period_splits_into_whole_months_and_edge_days(start, end, edges, months):
    d = date.fromisoformat
    got_edges, got_months = split_by_months(Period(d(start), d(end)))
    assert got_edges == [Period(d(a), d(b)) for a, b in edges]
    assert got_months == (None if months is None else Period(d(months[0]), d(months[1])))


def test_totals_read_through_months_equal_the_daily_sums(
    db_session, make_store, make_staff, make_response
):
    store = make_store()
    staff = make_staff(store)
    for age in (1, 20, 45, 70, 100, 130):
        make_response(store, staff, nps=9, csat=5, now=days_ago(age))
        make_response(store, staff, nps=4, csat=2, now=days_ago(age))
    today = utcnow().date()
    period = Period(today - timedelta(days=150), today)
    daily = sum((t for _d, t in totals_by_day(db_session, [store.id], period)), Totals())
    monthly = sum((t for _m, t in totals_by_month(db_session, [store.id], period)), Totals())
    assert totals(db_session, [store.id], period) == daily == monthly
    assert daily.responses == 12


def test_chain_page_flags_a_week_whose_detractor_share_is_out_of_control(
    client, make_store, make_staff, make_response, make_user, login_as
):
    store = make_store("BAD-01", region="华南")
    staff = make_staff(store, "S001")
    # Twelve calm weeks (1 detractor in 10), then this week 7 in 10.
    for week in range(1, 13):
        for i in range(10):
            make_response(store, staff, nps=2 if i == 0 else 9, csat=4, now=days_ago(7 * week + 3))
    for i in range(10):
        make_response(store, staff, nps=2 if i < 7 else 9, csat=2, now=days_ago(0))
    login_as(make_user(Role.ADMIN))
    html = client.get("/chain?days=30", headers={"Accept-Language": "en"}).get_data(as_text=True)
    row = html[html.index("BAD-01 ") :]
    row = row[: row.index("</tr>")]
    assert "⚑" in row and "W" in row
