"""Comparisons in plain words on the store and chain pages: "significantly better / worse /
no clear change" against the previous period or the rest of the chain as the headline,
the p-value and the test's name in a details line, in English and Chinese.

Figures are written as store-day rollup rows (what the dashboards read): SH-001 has 200
answers a week, mostly promoters this week and mostly detractors the week before; BJ-001
has the same middling mix both weeks.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.calendar import local_today
from portal.db import utcnow
from portal.models import Role, StoreDailyRollup

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def week(db_session, store, day, *, promoters, detractors, n=200, satisfied=None):
    passives = n - promoters - detractors
    satisfied = promoters + passives if satisfied is None else satisfied
    db_session.add(
        StoreDailyRollup(
            store_id=store.id,
            day=day,
            issued=2 * n,
            issued_answered=n,
            responses=n,
            nps_10=promoters,
            nps_8=passives,
            nps_2=detractors,
            csat_5=satisfied,
            csat_2=n - satisfied,
        )
    )
    db_session.flush()


@pytest.fixture
def chain(db_session, make_store):
    today = local_today("Asia/Shanghai", utcnow())
    sh = make_store("SH-001", name="徐汇店", region="华东")
    bj = make_store("BJ-001", name="朝阳店", region="华北")
    week(db_session, sh, today - timedelta(days=1), promoters=150, detractors=10)
    week(db_session, sh, today - timedelta(days=8), promoters=60, detractors=80)
    for day in (1, 8):
        week(db_session, bj, today - timedelta(days=day), promoters=90, detractors=40)
    return sh, bj


def part(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</div>", start)]


def test_the_store_page_says_better_or_no_clear_change_and_keeps_p_in_details(
    client, chain, make_user, login_as
):
    sh, _ = chain
    login_as(make_user(Role.MANAGER, stores=[sh]))
    html = client.get("/stores/SH-001?days=7", headers=EN).get_data(as_text=True)
    nps = part(html, "nps-vs-previous")
    # NPS 70 against -10 with 200 answers each: the headline is the verdict in words.
    assert "Significantly better than the previous period" in nps
    assert 'class="verdict verdict-better"' in nps
    details = nps[nps.index("<details") :]
    assert "p &lt; 0.001" in details and "adjusted Wald z test" in details
    assert "n = 200 / 200" in details and "Difference +80.0" in details
    # The headline itself carries no p-value.
    assert "p " not in nps[: nps.index("<details")]
    assert "Significantly better than the rest of the chain" in part(html, "nps-vs-chain")
    csat = part(html, "csat-vs-previous")
    assert "Significantly better than the previous period" in csat
    assert "two-proportion z test" in csat


def test_a_change_that_is_not_significant_is_no_clear_change(
    client, db_session, make_store, make_user, login_as
):
    today = local_today("Asia/Shanghai", utcnow())
    store = make_store("GZ-001", region="华南")
    week(db_session, store, today - timedelta(days=1), promoters=104, detractors=40)
    week(db_session, store, today - timedelta(days=8), promoters=100, detractors=40)
    login_as(make_user(Role.ADMIN))
    html = client.get("/stores/GZ-001?days=7", headers=EN).get_data(as_text=True)
    nps = part(html, "nps-vs-previous")
    assert "No clear change from the previous period" in nps and "verdict-no_clear_change" in nps
    assert "Significantly" not in nps and re.search(r"p = 0\.\d{3}", nps)


def test_too_few_answers_say_so_instead_of_a_verdict(
    client, db_session, make_store, make_user, login_as
):
    today = local_today("Asia/Shanghai", utcnow())
    store = make_store("XA-001", region="西北")
    week(db_session, store, today - timedelta(days=1), promoters=10, detractors=0, n=10)
    week(db_session, store, today - timedelta(days=8), promoters=0, detractors=10, n=10)
    login_as(make_user(Role.ADMIN))
    html = client.get("/stores/XA-001?days=7", headers=EN).get_data(as_text=True)
    nps = part(html, "nps-vs-previous")
    # +200 points, p tiny, but 10 answers a side are below the minimum of 30.
    assert "Too few answers to compare with the previous period" in nps
    assert "Significantly" not in nps


def test_the_chain_page_says_it_per_store_after_the_correction(client, chain, make_user, login_as):
    sh, bj = chain
    login_as(make_user(Role.ADMIN))
    html = client.get("/chain?days=7", headers=EN).get_data(as_text=True)
    assert "NPS against the previous period" in html

    def cell(code):
        row = html[html.index(f">{code} ") :]
        row = row[: row.index("</tr>")]
        return row[row.index('class="nps-change"') :]

    assert "significantly better" in cell("SH-001") and "Benjamini–Hochberg adjusted" in cell(
        "SH-001"
    )
    assert "no clear change" in cell("BJ-001") and "significantly" not in cell("BJ-001")
    assert "Significantly better than the previous period" in part(html, "nps-vs-previous")


def test_the_words_are_chinese_on_a_chinese_page(client, chain, make_user, login_as):
    sh, _ = chain
    login_as(make_user(Role.MANAGER, stores=[sh]))
    html = client.get("/stores/SH-001?days=7", headers=ZH).get_data(as_text=True)
    assert "显著好于上一期" in part(html, "nps-vs-previous")
    assert "显著好于其他门店" in part(html, "nps-vs-chain")
    assert "详情" in html and "调整 Wald z 检验" in html
    assert "Significantly" not in html and "previous period" not in html
