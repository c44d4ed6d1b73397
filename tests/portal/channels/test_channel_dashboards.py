"""The channel filter and split on the store, chain and comparison pages: figures limited
in SQL to the ticked channels, NPS/CSAT per channel, the "Mixed channels" note only when a
figure mixes channels, and the receipt funnel "not applicable" without channel receipt."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.calendar import Period, local_today
from portal.dashboard import custom_queries, reports
from portal.db import utcnow
from portal.models import QuestionDailyCount, Role
from portal.versions import default_survey, latest_version

EN = {"Accept-Language": "en"}


def yesterday():
    return utcnow() - timedelta(days=1)


@pytest.fixture
def shop(make_store, make_staff, answer):
    """SH-001: 4 QR answers (10 and 5: promoters, satisfied) and 2 kiosk answers without a
    receipt (0 and 1: detractors). All: n 6, NPS 33, CSAT 67 %; receipt: n 4, NPS 100;
    kiosk: n 2, NPS -100."""
    store = make_store("SH-001", name="徐汇店")
    staff = make_staff(store, "S001")
    for i in range(4):
        answer(store, "receipt", staff=staff, nps=10, csat=5, comment=f"qr {i}", now=yesterday())
    for i in range(2):
        answer(store, "kiosk", nps=0, csat=1, comment=f"kiosk {i}", now=yesterday())
    return store


@pytest.fixture
def admin(make_user, login_as):
    user = make_user(Role.ADMIN)
    login_as(user)
    return user


def page(client, url):
    response = client.get(url, headers=EN)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def headline_nps(html):
    return re.search(r'<span class="metric-value">(-?\d+|—)</span>', html).group(1)


def section(html, element_id):
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</section>", start)]


def test_all_channels_mix_and_say_so(client, shop, admin):
    html = page(client, "/stores/SH-001?days=30")
    assert headline_nps(html) == "33"
    assert "n = 6" in html
    note = re.search(r'role="note" id="headline-channels">(.*?)</p>', html)
    assert note is not None
    assert note.group(1) == "Mixed channels: Receipt QR code 4, In-store kiosk 2"
    # The funnel counts the QR receipts: 4 issued, 4 answered.
    assert "4 of 4 receipts issued in the period were answered." in html


def test_the_filter_limits_every_figure_to_the_ticked_channels(client, shop, admin):
    html = page(client, "/stores/SH-001?days=30&channel=receipt")
    assert headline_nps(html) == "100"
    assert "n = 4" in html and "n = 6" not in html
    assert "channel-mix" not in html  # one channel only: no note
    assert "qr 0" in html and "kiosk 0" not in html  # the comments obey it too
    # The tick box of the filter is ticked, the others not; the period links keep it.
    assert '<input type="checkbox" name="channel" value="receipt" checked>' in html
    assert '<input type="checkbox" name="channel" value="kiosk">' in html
    assert "days=7&amp;channel=receipt" in html
    kiosk = page(client, "/stores/SH-001?days=30&channel=kiosk")
    assert headline_nps(kiosk) == "-100"
    assert "kiosk 1" in kiosk and "qr 1" not in kiosk
    both = page(client, "/stores/SH-001?days=30&channel=receipt&channel=kiosk")
    assert headline_nps(both) == "33" and "Mixed channels:" in both


def test_a_filter_without_channel_receipt_shows_the_funnel_as_not_applicable(client, shop, admin):
    html = page(client, "/stores/SH-001?days=30&channel=kiosk&channel=paper")
    reason = (
        "Not applicable: receipts issued and their response rate are counted with the "
        "receipt QR code channel"
    )
    rate = section(html, "response-rate")
    assert reason in rate and "receipts issued in the period were answered" not in rate
    assert "0 %" not in rate
    funnel = html[html.index("Invitation funnel") :]
    assert reason in funnel and "By time of day" not in funnel


def test_the_split_table_has_nps_and_csat_per_channel(client, shop, admin):
    html = page(client, "/stores/SH-001?days=30")
    table = section(html, "channels")
    rows = dict(re.findall(r'<tr class="[^"]*" id="channel-(\w+)">(.*?)</tr>', table, re.S))
    assert sorted(rows) == ["kiosk", "receipt"]
    cells = {k: re.findall(r'<td class="num">([^<]*)</td>', v) for k, v in rows.items()}
    assert cells["receipt"][0] == "4" and cells["receipt"][1] == "100"
    assert cells["kiosk"][0] == "2" and cells["kiosk"][1] == "-100"
    assert cells["kiosk"][3] == "0 %"
    assert "In-store kiosk" in rows["kiosk"]
    # Filtered, the table has only the ticked channels.
    only = section(page(client, "/stores/SH-001?days=30&channel=kiosk"), "channels")
    assert 'id="channel-kiosk"' in only and 'id="channel-receipt"' not in only


def test_an_unknown_channel_is_ignored_on_the_pages(client, shop, admin):
    assert headline_nps(page(client, "/stores/SH-001?days=30&channel=fax")) == "33"


def test_the_typed_code_and_the_qr_code_are_two_channels(client, make_store, answer, admin):
    store = make_store("SH-002")
    answer(store, "receipt", nps=10, now=yesterday())
    answer(store, "code", nps=0, now=yesterday())
    html = page(client, "/stores/SH-002?days=30")
    assert "Mixed channels: Receipt QR code 1, Typed receipt code 1" in html
    # Typed codes answer receipts: the funnel stays whole under channel receipt alone.
    assert "2 of 2 receipts issued in the period were answered." in html
    assert headline_nps(page(client, "/stores/SH-002?days=30&channel=code")) == "-100"


def test_the_chain_page_filters_and_notes_mixed_stores(client, shop, make_store, answer, admin):
    other = make_store("BJ-001", region="华北")
    answer(other, "paper", nps=10, now=yesterday())
    html = page(client, "/chain?days=30")
    assert "Mixed channels: Receipt QR code 4, In-store kiosk 2, Paper card 1" in html
    row = re.search(r"SH-001.*?</tr>", html, re.S).group(0)
    assert "Mixed channels: Receipt QR code 4, In-store kiosk 2" in row
    paper_row = re.search(r"BJ-001.*?</tr>", html, re.S).group(0)
    assert "channel-mix" not in paper_row  # one channel at that store
    filtered = page(client, "/chain?days=30&channel=paper")
    assert "Mixed channels" not in filtered
    total = section(filtered, "channels")
    assert 'id="channel-paper"' in total and 'id="channel-receipt"' not in total
    # The stores' links carry the filter.
    assert "/stores/SH-001?from=" in filtered and "channel=paper" in filtered


def test_trends_and_charts_obey_the_filter(client, db_session, shop, admin):
    today = local_today(shop.timezone, utcnow())
    period = Period(today - timedelta(days=29), today)
    points = reports.trend(db_session, [shop.id], period, ["kiosk"])
    assert sum(p.nps.n for p in points) == 2
    assert sum(p.nps.n for p in reports.trend(db_session, [shop.id], period)) == 6
    for chart in ("nps.svg", "csat.svg", "drivers.svg", "categories.svg"):
        response = client.get(f"/stores/SH-001/{chart}?days=30&channel=kiosk")
        assert response.status_code == 200
    assert client.get("/chain/nps.svg?days=30&channel=kiosk").status_code == 200
    html = page(client, "/stores/SH-001?days=30&channel=kiosk")
    assert "/stores/SH-001/nps.svg?from=" in html and "channel=kiosk" in html


def test_custom_question_counts_are_read_per_channel(db_session, shop):
    survey = default_survey(db_session)
    day = local_today(shop.timezone, utcnow())
    for channel, n in (("receipt", 5), ("kiosk", 3)):
        for value, count in (("", n), ("yes", n)):
            db_session.add(
                QuestionDailyCount(
                    survey_id=survey.id,
                    question_key="self_checkout",
                    store_id=shop.id,
                    day=day,
                    channel=channel,
                    value=value,
                    count=count,
                )
            )
    db_session.flush()
    period = Period(day, day)
    every = custom_queries.rollup_counts(db_session, [shop.id], period)
    counts = every[(survey.id, "self_checkout")]
    assert (counts.respondents, counts.values) == (8, {"yes": 8})
    assert counts.respondents_by_channel == {"receipt": 5, "kiosk": 3}
    kiosk = custom_queries.rollup_counts(db_session, [shop.id], period, ["kiosk"])
    assert kiosk[(survey.id, "self_checkout")].respondents == 3


def test_version_figures_obey_the_filter(db_session, shop, admin):
    version = latest_version(db_session, default_survey(db_session).id)
    today = local_today(shop.timezone, utcnow())
    period = Period(today - timedelta(days=29), today)
    split = custom_queries.version_totals(db_session, admin, [version.id], None, period)
    assert {c: t.responses for c, t in split[version.id].items()} == {"receipt": 4, "kiosk": 2}
    kiosk = custom_queries.version_totals(db_session, admin, [version.id], None, period, ["kiosk"])
    assert {c: t.responses for c, t in kiosk[version.id].items()} == {"kiosk": 2}


def test_the_comparison_page_has_the_channel_filter(client, shop, admin):
    html = page(client, "/dashboard/compare?channel=kiosk")
    assert '<input type="checkbox" name="channel" value="kiosk" checked>' in html
