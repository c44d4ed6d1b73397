"""Mystery reports: store trend and touchpoints beside customer scores, the chain heat map
and shopper reliability, the printable visit report; only released visits count, and HR
and managers never see who the shopper was."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from analysis.mystery import mystery_customer_correlation
from portal.db import utcnow
from portal.models import Role, StoreMonthlyRollup, VisitDispute

EN = {"Accept-Language": "en"}
SECTIONS = ("environment", "greeting", "needs", "product", "checkout", "farewell")
RELEASED = ("released", "disputed", "final")


def month_start(months_ago: int) -> date:
    """The first day of the month ``months_ago`` months before this one (China time)."""
    day = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date().replace(day=1)
    for _ in range(months_ago):
        day = (day - timedelta(days=1)).replace(day=1)
    return day


@pytest.fixture
def shopper(make_user):
    return make_user(Role.MYSTERY, name="暗访员张三", email="zhang.shopper@example.com")


def test_store_figures_count_only_released_visits(
    client, make_store, make_user, make_visit, shopper, login_as
):
    store = make_store("SH-001", name="徐汇店")
    for score, state in [(80.0, "released"), (90.0, "disputed"), (70.0, "final")]:
        make_visit(store, shopper, score, state=state, grade="silver")
    hidden = [
        make_visit(store, shopper, 10.0, state=state)
        for state in ("submitted", "in_review", "rejected", "returned")
    ]
    login_as(make_user(Role.MANAGER, stores=[store]))
    page = client.get("/mystery/stores/SH-001", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # (80 + 90 + 70) / 3 = 80 from three visits; the unreleased 10s change nothing.
    overall = html[html.index('id="mystery-overall"') :]
    overall = overall[: overall.index("</div>")]
    assert '<span class="metric-value">80.0</span>' in overall and "n = 3" in overall
    greeting = html[html.index('<th scope="row">Greeting</th>') :]
    assert "80.0" in greeting[: greeting.index("</tr>")]
    for visit in hidden:
        assert f'id="visit-{visit.id}"' not in html
    assert html.count('<tr id="visit-') == 3
    assert ">disputed<" in html and ">final<" in html


def test_figures_from_fewer_than_three_visits_are_greyed(
    client, make_store, make_user, make_visit, shopper, login_as
):
    store = make_store("SH-002")
    make_visit(store, shopper, 85.0)
    login_as(make_user(Role.ADMIN))
    html = client.get("/mystery/stores/SH-002", headers=EN).get_data(as_text=True)
    touchpoints = html[html.index('id="touchpoints"') : html.index('id="beside-customers"')]
    assert touchpoints.count('<tr class="small-n">') == len(SECTIONS)


def test_a_manager_sees_only_released_reports_of_their_own_stores(
    client, make_store, make_user, make_visit, shopper, login_as
):
    mine, other = make_store("SH-010"), make_store("BJ-010")
    released = make_visit(mine, shopper, 80.0)
    draft = make_visit(mine, shopper, 80.0, state="submitted")
    elsewhere = make_visit(other, shopper, 80.0)
    login_as(make_user(Role.MANAGER, stores=[mine]))
    assert client.get("/mystery/stores/SH-010").status_code == 200
    assert client.get("/mystery/stores/BJ-010").status_code == 404
    assert client.get("/mystery/stores/NOPE-1").status_code == 404
    assert client.get("/mystery/stores/BJ-010/trend.svg").status_code == 404
    assert client.get("/mystery/chain").status_code == 403
    assert client.get("/mystery/chain/heatmap.svg").status_code == 403
    assert client.get(f"/mystery/visits/{released.id}/print").status_code == 200
    assert client.get(f"/mystery/visits/{draft.id}/print").status_code == 404
    assert client.get(f"/mystery/visits/{elsewhere.id}/print").status_code == 404


def test_a_shopper_prints_only_their_own_visits(
    client, make_store, make_user, make_visit, shopper, login_as
):
    store = make_store()
    own = make_visit(store, shopper, 80.0, state="submitted")
    someone_else = make_visit(store, make_user(Role.MYSTERY), 80.0)
    login_as(shopper)
    assert client.get(f"/mystery/visits/{own.id}/print").status_code == 200
    assert client.get(f"/mystery/visits/{someone_else.id}/print").status_code == 404
    assert client.get(f"/mystery/stores/{store.code}").status_code == 403


@pytest.mark.parametrize("role", [Role.MANAGER, Role.HR])
def test_managers_and_hr_never_see_the_shopper(
    client, make_store, make_user, make_visit, shopper, login_as, role
):
    store = make_store("SH-020")
    visit = make_visit(store, shopper, 75.0, grade="standard")
    login_as(make_user(role, stores=[store] if role == Role.MANAGER else None))
    pages = [f"/mystery/stores/{store.code}", f"/mystery/visits/{visit.id}/print"]
    if role == Role.HR:
        pages.append("/mystery/chain")
    for url in pages:
        for headers in (EN, {}):
            response = client.get(url, headers=headers)
            html = response.get_data(as_text=True)
            assert response.status_code == 200, url
            assert "暗访员张三" not in html and "zhang.shopper" not in html, url


@pytest.fixture
def three_shoppers(make_store, make_user, make_visit):
    """Four stores, each visited by three shoppers; shopper "宽松" scores ~20 points high."""
    lenient = make_user(Role.MYSTERY, name="宽松")
    fair = [make_user(Role.MYSTERY, name="公正一"), make_user(Role.MYSTERY, name="公正二")]
    for i in range(4):
        store = make_store(f"HZ-{i:03d}", region="华东")
        make_visit(store, lenient, 92.0 + i % 2)
        make_visit(store, fair[0], 70.0 + i)
        make_visit(store, fair[1], 73.0 - i)
        make_visit(store, lenient, 10.0, state="in_review")  # never counts
    return lenient, fair


def test_reviewers_see_shopper_reliability_with_outliers_flagged(
    client, make_user, three_shoppers, login_as
):
    lenient, fair = three_shoppers
    login_as(make_user(Role.REVIEWER))
    html = client.get("/mystery/chain", headers=EN).get_data(as_text=True)
    table = html[html.index('id="reliability-table"') :]
    row = table[table.index("宽松") :]
    row = row[: row.index("</tr>")]
    assert "⚑" in row and "scores higher than others" in row
    assert "BH" in table and fair[0].name in table


def test_hr_sees_no_reliability_table(client, make_user, three_shoppers, login_as):
    login_as(make_user(Role.HR))
    html = client.get("/mystery/chain", headers=EN).get_data(as_text=True)
    assert 'id="heat-table"' in html
    assert "reliability" not in html and "宽松" not in html and "公正一" not in html


def test_chain_table_holds_the_heat_map_numbers(
    client, make_store, make_user, make_visit, shopper, login_as
):
    north, east = make_store("BJ-100", region="华北"), make_store("SH-100", region="华东")
    for score in (60.0, 70.0, 80.0):
        make_visit(
            north, shopper, score, sections={**dict.fromkeys(SECTIONS, score), "needs": None}
        )
    make_visit(east, shopper, 50.0)
    make_visit(east, shopper, 0.0, state="rejected")
    login_as(make_user(Role.ADMIN))
    html = client.get("/mystery/chain", headers=EN).get_data(as_text=True)
    table = html[html.index('id="heat-table"') :]
    north_row = table[table.index("BJ-100") :]
    north_row = north_row[: north_row.index("</tr>")]
    # Greeting: (60 + 70 + 80) / 3 = 70 from 3 visits; needs was N/A on every visit.
    assert "70.0 <small>n = 3</small>" in north_row and "heat-none" in north_row
    east_row = table[table.index("SH-100") :]
    east_row = east_row[: east_row.index("</tr>")]
    assert "50.0 <small>n = 1</small>" in east_row and "small-n" in east_row
    region = client.get("/mystery/chain?region=华北", headers=EN).get_data(as_text=True)
    assert "BJ-100" in region and "SH-100" not in region


def test_heat_map_and_trend_are_svg_cached_by_etag(
    client, make_store, make_user, make_visit, shopper, login_as
):
    store = make_store("SH-200")
    for score in (70.0, 80.0, 90.0):
        make_visit(store, shopper, score)
    login_as(make_user(Role.ADMIN))
    for url in ("/mystery/chain/heatmap.svg?months=6", "/mystery/stores/SH-200/trend.svg"):
        first = client.get(url)
        assert first.status_code == 200 and first.mimetype == "image/svg+xml", url
        assert b"<svg" in first.data[:400] and first.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""


def test_an_empty_chain_still_draws(client, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    assert client.get("/mystery/chain/heatmap.svg").status_code == 200
    html = client.get("/mystery/chain", headers=EN).get_data(as_text=True)
    assert "No released visits in this period." in html


def _customer_month(db_session, store, months_ago, promoters, detractors):
    db_session.add(
        StoreMonthlyRollup(
            store_id=store.id,
            month=month_start(months_ago),
            responses=promoters + detractors,
            nps_10=promoters,
            nps_2=detractors,
            csat_5=promoters,
            csat_2=detractors,
        )
    )


def test_mystery_score_beside_nps_and_csat_with_their_correlation(
    client, db_session, make_store, make_user, make_visit, shopper, login_as
):
    store = make_store("SH-300")
    mystery = [60.0, 70.0, 80.0, 75.0, 90.0, 85.0]
    promoters = [10, 20, 30, 35, 40, 45]  # of 50 answers a month
    for months_ago, (score, p) in enumerate(zip(mystery, promoters, strict=True), start=1):
        make_visit(store, shopper, score, day=month_start(months_ago))
        _customer_month(db_session, store, months_ago, p, 50 - p)
    db_session.flush()
    login_as(make_user(Role.ADMIN))
    html = client.get("/mystery/stores/SH-300?months=12", headers=EN).get_data(as_text=True)
    nps = [100 * (p - (50 - p)) / 50 for p in promoters]
    expected = mystery_customer_correlation(mystery, nps).rho
    table = html[html.index('id="correlations"') :]
    row = table[table.index('<th scope="row">NPS</th>') :]
    row = row[: row.index("</tr>")]
    assert f"{expected.value:.2f}" in row
    assert f"{expected.low:.2f} – {expected.high:.2f}" in row
    assert '<td class="num">6</td>' in row and "small-n" not in row
    month = html[html.index(f'<th scope="row">{month_start(1):%Y-%m}</th>') :]
    month = month[: month.index("</tr>")]
    # 60 from one visit (greyed); NPS 100 * (10 - 40) / 50 = -60 and CSAT 20 % from 50 answers.
    assert "60.0" in month and "-60" in month and "20 %" in month and ">50<" in month


def test_a_correlation_over_too_few_months_is_not_a_finding(
    client, db_session, make_store, make_user, make_visit, shopper, login_as
):
    store = make_store("SH-301")
    for months_ago, (score, p) in enumerate([(60.0, 10), (80.0, 40)], start=1):
        make_visit(store, shopper, score, day=month_start(months_ago))
        _customer_month(db_session, store, months_ago, p, 50 - p)
    db_session.flush()
    login_as(make_user(Role.ADMIN))
    html = client.get("/mystery/stores/SH-301", headers=EN).get_data(as_text=True)
    table = html[html.index('id="correlations"') :]
    assert table.count('<tr class="small-n">') == 2
    assert "not enough months (at least 4 needed)" in table


@pytest.fixture
def failed_visit(db_session, make_store, make_staff, make_visit, shopper):
    store = make_store("SH-400", name="静安店")
    cashier = make_staff(store, "S042", name="李娜")
    visit = make_visit(
        store,
        shopper,
        0.0,
        score_before_autofail=72.5,
        auto_fail=True,
        grade="fail",
        state="final",
        sections={**dict.fromkeys(SECTIONS, 90.0), "environment": 40.0, "needs": None},
        served_by_id=cashier.id,
        photo_file="visit-1-abcdef.jpg",
        answers={
            "items": {
                "A1": {"value": "yes", "comment": ""},
                "A4": {"value": "no", "comment": "Yoghurt two days past its date."},
                "C1": {"value": "na", "comment": "I was approached first, at the door."},
            },
            "narratives": {"environment": "Clean floor, one expired yoghurt on the shelf."},
        },
    )
    visit.dispute = VisitDispute(
        raised_at=utcnow() - timedelta(days=2),
        item_key="A4",
        reason="The yoghurt was put back by a customer.",
        decided_at=utcnow() - timedelta(days=1),
        outcome="upheld",
        decision_note="The photo shows the date clearly.",
    )
    db_session.flush()
    return visit


def test_print_page_shows_sections_grade_and_the_fail_badge(
    client, make_user, failed_visit, login_as
):
    login_as(make_user(Role.MANAGER, stores=[failed_visit.store]))
    page = client.get(f"/mystery/visits/{failed_visit.id}/print", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "SH-400 <bdi>静安店</bdi>" in html and "Retail store standard visit" in html
    assert "version 1" in html and "S042 <bdi>李娜</bdi>" in html
    assert '<span class="badge badge-fail"' in html and "72.5" in html
    for title in ("Store environment", "Greeting", "Checkout", "Farewell"):
        assert title in html
    environment = html[html.index('id="section-environment"') :]
    environment = environment[: environment.index("</section>")]
    assert "40.0" in environment and "Yoghurt two days past its date." in environment
    assert "one expired yoghurt on the shelf" in environment
    needs = html[html.index('id="section-needs"') :]
    assert "not applicable" in needs[: needs.index("</h2>")]
    assert f'src="/mystery/visits/{failed_visit.id}/photo"' in html
    assert "The yoghurt was put back by a customer." in html and "Report upheld" in html
    assert "暗访员张三" not in html


def test_print_page_is_chinese_by_default_and_names_the_shopper_to_reviewers(
    client, make_user, failed_visit, login_as
):
    login_as(make_user(Role.REVIEWER))
    html = client.get(f"/mystery/visits/{failed_visit.id}/print").get_data(as_text=True)
    assert "门店环境" in html and "零售门店标准暗访" in html
    assert "暗访员张三" in html


def test_a_gold_visit_prints_its_grade(
    client, make_store, make_user, make_visit, shopper, login_as
):
    visit = make_visit(make_store(), shopper, 95.0, grade="gold")
    login_as(make_user(Role.HR))
    html = client.get(f"/mystery/visits/{visit.id}/print", headers=EN).get_data(as_text=True)
    assert '<span class="badge grade-gold">Gold</span>' in html and "badge-fail" not in html


@pytest.mark.parametrize("months", ["3", "x", "24"])
def test_a_bad_month_count_is_a_400(client, make_store, make_user, login_as, months):
    make_store("SH-500")
    login_as(make_user(Role.ADMIN))
    assert client.get(f"/mystery/stores/SH-500?months={months}").status_code == 400
    assert client.get(f"/mystery/chain?months={months}").status_code == 400


def test_store_page_queries_do_not_grow_with_visits(
    client, make_store, make_user, make_visit, shopper, login_as, count_queries
):
    store = make_store("SH-600")
    make_visit(store, shopper, 80.0)
    login_as(make_user(Role.ADMIN))
    client.get("/mystery/stores/SH-600")
    before = count_queries()
    client.get("/mystery/stores/SH-600")
    few = count_queries() - before
    for months_ago in range(6):
        make_visit(store, shopper, 70.0, day=month_start(months_ago))
    before = count_queries()
    client.get("/mystery/stores/SH-600")
    assert count_queries() - before == few
