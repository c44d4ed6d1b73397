"""Custom questions on the store and chain pages: distributions read from the daily counts,
the filter by answer (counted from the answers), and the scoring-series notice.

The shop: SH-001 has ten answers yesterday to version 2 of the default survey, which adds
a 1-5 scale, a multiple choice with "other", a yes/no and a short text question:

    #   NPS CSAT  self-checkout  ease  counters            suggestion
    0   10  5     yes            5     bakery, deli        yes
    1   10  5     yes            5     bakery
    2   10  5     yes            5     bakery, deli
    3   10  5     yes            4     deli
    4   10  5     yes            4     bakery, other       yes
    5   10  5     yes            3     deli                yes
    6   10  5     yes            2     bakery
    7    0  2     no             5     deli
    8    0  2     no             4     bakery
    9    0  2     no             1     (not answered)
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from analysis.results import Estimate
from analysis.trends import TrendPoint
from portal.calendar import Period, local_day
from portal.dashboard.reports import break_position
from portal.db import utcnow
from portal.models import Role
from tests.portal.dashboard.custom_answers import (
    answer,
    count_answer,
    publish_version,
    survey_document,
)

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
ROWS = [
    (10, 5, True, 5, ["bakery", "deli"], "多开几个收银台"),
    (10, 5, True, 5, ["bakery"], None),
    (10, 5, True, 5, ["bakery", "deli"], None),
    (10, 5, True, 4, ["deli"], None),
    (10, 5, True, 4, ["bakery", ("other", "花店")], "Open earlier"),
    (10, 5, True, 3, ["deli"], "更多停车位"),
    (10, 5, True, 2, ["bakery"], None),
    (0, 2, False, 5, ["deli"], None),
    (0, 2, False, 4, ["bakery"], None),
    (0, 2, False, 1, None, None),
]


def days_ago(days):
    return utcnow() - timedelta(days=days)


@pytest.fixture
def v2(db_session):
    return publish_version(db_session, survey_document(), number=2, published_at=days_ago(40))


@pytest.fixture
def shop(db_session, make_store, make_staff, make_response, v2):
    store = make_store("SH-001", name="徐汇店", region="华东")
    staff = make_staff(store, "S001")
    for nps, csat, self_checkout, ease, counters, suggestion in ROWS:
        response = make_response(store, staff, nps=nps, csat=csat, now=days_ago(1))
        given = {"self_checkout": self_checkout, "checkout_ease": ease}
        if counters:
            given["departments"] = counters
        if suggestion:
            given["suggestion"] = suggestion
        answer(db_session, response, v2, given)
    return store


def part(html: str, element_id: str, end: str = "</table>") -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index(end, start)]


def row(table: str, label: str) -> str:
    """The cells of the table row whose first cell is ``label``, tags stripped."""
    match = re.search(rf"<tr><td><bdi>{re.escape(label)}</bdi></td>(.*?)</tr>", table, re.S)
    assert match, f"no row {label!r} in {table}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_store_page_shows_each_distribution_with_hand_computed_figures(
    client, shop, make_user, login_as
):
    login_as(make_user(Role.MANAGER, stores=[shop]))
    html = client.get("/stores/SH-001?days=30", headers=EN).text
    assert "Answers to custom questions" in html and "How was your visit?" in html
    # Yes/no: 7 of 10 = 70 %; Wilson: centre (0.7 + 0.1920730) / 1.3841459 = 0.6445294,
    # half 1.959964 * sqrt(0.021 + 0.0096037) / 1.3841459 = 0.2477516 -> 39.7 % .. 89.2 %.
    yes_no = part(html, "question-self_checkout")
    assert "n = 10" in yes_no
    assert row(yes_no, "Yes") == "7 70 % 70 % (40 % – 89 %)"
    assert row(yes_no, "No") == "3 30 % 30 % (11 % – 60 %)"
    # Scale: 5 x4, 4 x3, 3, 2, 1. Mean 38 / 10 = 3.8; sum of squares 162,
    # s² = (162 - 38²/10) / 9 = 1.9555556, s = 1.3984278; t(0.975, 9) = 2.2621572;
    # half = 2.2621572 * 1.3984278 / sqrt(10) = 1.0003654 -> 2.80 .. 4.80.
    scale = part(html, "question-checkout_ease")
    assert row(scale, "5 · Very easy") == "4 40 % 40 % (17 % – 69 %)"
    assert row(scale, "1 · Very hard") == "1 10 % 10 % (2 % – 40 %)"
    assert "3.80 ± 1.00" in scale and "(2.80 – 4.80)" in scale
    # Multiple choice: 9 respondents (one skipped it); bakery 6/9, deli 5/9, other 1/9,
    # fruit and vegetables 0/9: shares of the respondents, 67 + 56 + 11 = 133 %.
    counters = part(html, "question-departments")
    assert "n = 9" in counters and "may add up to more than 100 %" in counters
    assert row(counters, "Bakery") == "6 67 % 67 % (35 % – 88 %)"
    assert row(counters, "Deli") == "5 56 % 56 % (27 % – 81 %)"
    assert row(counters, "Other (typed in)") == "1 11 % 11 % (2 % – 43 %)"
    assert row(counters, "Fruit and vegetables") == "0 0 % 0 % (0 % – 30 %)"
    # Ten answers are fewer than the minimum n of 30: greyed.
    assert 'class="data custom small-n"' in scale
    # Text: counted, and linked to the comment search for that question.
    text = part(html, "question-suggestion", "</div>")
    assert "3 shoppers answered in words." in text
    assert "question=suggestion" in text and "#comments" in text


def test_store_page_reads_the_daily_counts_not_the_answers(
    client, db_session, make_store, make_response, make_user, login_as, v2
):
    """Counts with no answer rows behind them: what the page shows must be the rollup."""
    store = make_store("SH-001")
    response = make_response(store, now=days_ago(2))
    answer(db_session, response, v2)  # only moved to version 2
    for value, by in (("", 50), ("yes", 40), ("no", 10)):
        count_answer(db_session, v2, response, "self_checkout", value, by)
    login_as(make_user(Role.ADMIN))
    html = client.get("/stores/SH-001?days=30", headers=EN).text
    yes_no = part(html, "question-self_checkout")
    assert "n = 50" in yes_no and "small-n" not in yes_no
    assert row(yes_no, "Yes").startswith("40 80 %")


def test_no_custom_questions_no_section_figures(
    client, make_store, make_response, make_user, login_as
):
    make_response(make_store("SH-001"), now=days_ago(1))
    login_as(make_user(Role.ADMIN))
    html = client.get("/stores/SH-001", headers=EN).text
    assert "No answers to custom questions in this period." in html
    assert 'name="only"' not in html  # nothing to filter by


@pytest.mark.parametrize(
    ("only", "nps", "n"),
    [
        ("self_checkout:yes", "100", 7),  # rows 0-6, all promoters
        ("self_checkout:no", "-100", 3),
        ("departments:bakery", "67", 6),  # rows 0, 1, 2, 4, 6 promoters, 8 a detractor: 400/6
        ("checkout_ease:5", "50", 4),  # rows 0, 1, 2 and 7: (3 - 1) / 4
        ("departments:other", "100", 1),
    ],
)
def test_the_filter_restricts_the_headline_to_those_answers(
    client, shop, make_user, login_as, only, nps, n
):
    login_as(make_user(Role.MANAGER, stores=[shop]))
    html = client.get("/stores/SH-001?days=30", headers=EN).text
    assert '<span class="metric-value">40</span>' in html  # 7 promoters, 3 detractors
    filtered = client.get(f"/stores/SH-001?days=30&only={only}", headers=EN)
    assert filtered.status_code == 200
    page = filtered.text
    card = page[page.index("<h2>NPS</h2>") : page.index('id="nps-vs-previous"')]
    assert f'<span class="metric-value">{nps}</span>' in card
    assert f'<span class="metric-n">n = {n}</span>' in card
    note = part(page, "filtered-note", "</p>")
    assert "counted from these shoppers' answers, not from the rollups" in note
    assert "Not compared with the rest of the chain while filtered." in page
    assert f'value="{only}" selected' in page


def test_the_filter_restricts_the_custom_distributions(client, shop, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    page = client.get("/stores/SH-001?days=30&only=self_checkout:yes", headers=EN).text
    # Ease among the seven self-checkout users: 5, 5, 5, 4, 4, 3, 2 -> mean 28 / 7 = 4.00.
    scale = part(page, "question-checkout_ease")
    assert "n = 7" in scale and "4.00 ±" in scale
    assert row(scale, "1 · Very hard").startswith("0 0 %")
    counters = part(page, "question-departments")
    # Bakery: rows 0, 1, 2, 4, 6 of the seven.
    assert "n = 7" in counters and row(counters, "Bakery").startswith("5 71 %")
    assert "3 shoppers answered in words." in page  # rows 0, 4 and 5 all used it
    assert row(part(page, "question-self_checkout"), "No").startswith("0 0 %")


@pytest.mark.parametrize(
    "only",
    [
        "nonsense",
        "self_checkout:maybe",
        "self_checkout:",
        "no_such_question:yes",
        "checkout_ease:9",
        "checkout_ease:-1",
        "departments:florist",
        "suggestion:anything",  # a text question cannot filter
        "nps:10",  # nor a standard one
        "SELF_CHECKOUT:yes",
    ],
)
def test_a_bad_filter_is_a_400_with_a_message(client, shop, make_user, login_as, only):
    login_as(make_user(Role.ADMIN))
    for url in (f"/stores/SH-001?only={only}", f"/chain?only={only}"):
        response = client.get(url, headers=EN)
        assert response.status_code == 400, url
        assert "filter" in response.text or "not an answer" in response.text


def test_the_chain_page_sums_the_stores_and_filters_too(
    client, db_session, shop, make_store, make_response, make_user, login_as, v2
):
    other = make_store("BJ-001", region="华北")
    for _ in range(2):
        answer(
            db_session, make_response(other, nps=9, now=days_ago(1)), v2, {"self_checkout": True}
        )
    login_as(make_user(Role.CX))
    html = client.get("/chain?days=30", headers=EN).text
    assert row(part(html, "question-self_checkout"), "Yes").startswith("9 75 %")  # 9 of 12
    filtered = client.get("/chain?days=30&only=self_checkout:yes", headers=EN).text
    assert '<span class="metric-value">100</span>' in filtered  # nine promoters
    assert "The table of stores counts all shoppers." in filtered
    # A region manager's chain page counts only the region's stores.
    region = client.get("/chain?days=30&region=华北", headers=EN).text
    assert row(part(region, "question-self_checkout"), "Yes").startswith("2 100 %")


def test_chinese_page_shows_chinese_question_words(client, shop, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    html = client.get("/stores/SH-001", headers=ZH).text
    assert "您使用了自助结账吗？" in html and "自定义问题的回答" in html
    assert "Did you use the self-checkout?" not in html


# --- scoring series ------------------------------------------------------------------------


@pytest.fixture
def broken_series(db_session, make_store, make_response, v2):
    """Version 3 rewords NPS (scoring series 2), published three days ago; SH-001 has two
    answers to version 2 five days ago and two to version 3 yesterday."""
    document = survey_document(title_en="How was your visit today?")
    v3 = publish_version(db_session, document, number=3, published_at=days_ago(3), scoring_series=2)
    store = make_store("SH-001")
    for version, when in ((v2, 5), (v2, 5), (v3, 1), (v3, 1)):
        answer(
            db_session, make_response(store, now=days_ago(when)), version, {"self_checkout": True}
        )
    return store, local_day(v3.published_at, "Asia/Shanghai")


def test_a_period_spanning_two_scoring_series_says_so(client, broken_series, make_user, login_as):
    store, day = broken_series
    login_as(make_user(Role.MANAGER, stores=[store]))
    html = client.get("/stores/SH-001?days=30", headers=EN).text
    notice = f"NPS and CSAT before {day.isoformat()} were asked with other wording"
    assert notice in html
    chart = client.get("/stores/SH-001/nps.svg?days=30").get_data(as_text=True)
    assert 'id="trend-break"' in chart
    # From the day the new series began, only it was answered: no notice, no mark.
    recent = f"from={day.isoformat()}&to={local_day(utcnow(), 'Asia/Shanghai').isoformat()}"
    assert notice not in client.get(f"/stores/SH-001?{recent}", headers=EN).text
    assert 'id="trend-break"' not in client.get(f"/stores/SH-001/nps.svg?{recent}").text


def test_the_chain_page_says_so_too(client, broken_series, make_user, login_as):
    _store, day = broken_series
    login_as(make_user(Role.ADMIN))
    html = client.get("/chain?days=30", headers=EN).text
    assert f"NPS and CSAT before {day.isoformat()}" in html
    assert 'id="trend-break"' in client.get("/chain/nps.svg?days=30").text


def test_the_break_falls_before_the_day_it_starts_or_through_the_week_it_splits():
    def points(labels):
        empty = Estimate(None, None, None, 0)
        return [TrendPoint(label, empty, empty) for label in labels]

    days = Period(date(2026, 11, 1), date(2026, 11, 10))
    daily = points([f"11-{d:02d}" for d in range(1, 11)])
    assert break_position(daily, days, date(2026, 11, 4)) == 2.5  # between 11-03 and 11-04
    assert break_position(daily, days, date(2026, 11, 1)) is None  # nothing before it
    assert break_position(daily, days, date(2026, 11, 11)) is None
    weeks = Period(date(2026, 9, 7), date(2026, 11, 29))  # Mondays to a Sunday: 12 weeks
    weekly = points([f"2026-W{w}" for w in range(37, 49)])
    assert break_position(weekly, weeks, date(2026, 10, 5)) == 3.5  # a Monday: before W41
    assert break_position(weekly, weeks, date(2026, 10, 8)) == 4.0  # a Thursday: through W41
