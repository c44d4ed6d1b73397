"""The store manager's home as a to-do list: overdue cases first (how late, in words), the
other open cases, reports still open to dispute, award decisions on public notice and
today's figures; only their own stores; every item a link to where it is done; a bounded
number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit import Actor
from portal.awards.appeals import appeal
from portal.db import utcnow
from portal.models import Case, CaseState, Role, VisitDispute
from tests.portal.awards.test_awards import build_month, nominations, published

EN = {"Accept-Language": "en"}


def section(html: str, section_id: str) -> str:
    """The HTML of one ``<section id=...>`` of the page."""
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def ids_in(html: str, prefix: str) -> list[int]:
    return [int(n) for n in re.findall(rf'id="{prefix}-(\d+)"', html)]


@pytest.fixture
def stores(make_store, make_staff):
    mine = make_store("MY-001", name="我的门店")
    theirs = make_store("XX-001", name="别人的门店")
    make_staff(mine, "S001", name="李娜")
    make_staff(theirs, "S001", name="张伟")
    return mine, theirs


@pytest.fixture
def manager(make_user, stores):
    return make_user(Role.MANAGER, stores=[stores[0]])


@pytest.fixture
def unhappy(db_session, make_response):
    """An unhappy answer at ``store`` (it opens a case), returning the case; ``late``
    moves the first-response deadline that far into the past."""

    def make(store, *, comment="排队太久", late=None, state=None):
        response = make_response(store, store.staff[0], nps=2, csat=1, comment=comment)
        case = db_session.scalar(select(Case).where(Case.response_id == response.id))
        if late is not None:
            case.first_response_due_at = utcnow() - late
        if state is not None:
            case.state = state
        db_session.flush()
        return case

    return make


def test_overdue_cases_come_first_longest_waiting_first_with_how_late_in_words(
    client, stores, manager, unhappy, login_as
):
    mine, theirs = stores
    hours = unhappy(mine, late=timedelta(hours=5, minutes=10))
    days = unhappy(mine, late=timedelta(days=2, hours=1))
    waiting = unhappy(mine)
    busy = unhappy(mine, state=CaseState.IN_PROGRESS, late=timedelta(days=1))
    unhappy(mine, state=CaseState.CLOSED, late=timedelta(days=3))
    hidden = unhappy(theirs, late=timedelta(days=4), comment="别人的投诉")
    login_as(manager)
    html = client.get("/home", headers=EN).get_data(as_text=True)

    overdue = section(html, "overdue-cases")
    assert ids_in(overdue, "overdue-case") == [days.id, hours.id]
    assert 'class="count"' in overdue and ">2</span>" in overdue
    assert "overdue by 2 days" in overdue and "overdue by 5 hours" in overdue
    # In progress has had its first contact: late for nothing, listed with the open ones.
    assert ids_in(section(html, "open-cases"), "open-case") == [busy.id, waiting.id]
    assert "first contact due" in section(html, "open-cases")
    assert f"/cases/{hidden.id}" not in html and "别人的投诉" not in html
    assert "Nothing waiting for you" not in html
    # Each card shows the comment's first words, isolated from the page's text.
    assert "<bdi>排队太久</bdi>" in overdue


def test_the_overdue_case_is_one_click_from_the_home_page(
    client, stores, manager, unhappy, login_as
):
    late = unhappy(stores[0], late=timedelta(hours=3))
    login_as(manager)
    html = client.get("/home", headers=EN).get_data(as_text=True)
    first = re.search(r'href="([^"]+)"', section(html, "overdue-cases")).group(1)
    assert first == f"/cases/{late.id}"
    page = client.get(first, headers=EN)
    assert page.status_code == 200 and f"Case #{late.id}" in page.get_data(as_text=True)


def test_zh_cn_says_how_late_in_chinese(client, stores, manager, unhappy, login_as):
    unhappy(stores[0], late=timedelta(hours=3, minutes=5))
    login_as(manager)
    html = client.get("/home", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "已逾期 3小时" in section(html, "overdue-cases")
    assert "逾期个案" in html


def test_reports_still_open_to_dispute_then_disputes_waiting_for_a_decision(
    client, db_session, stores, manager, make_user, make_visit, login_as
):
    mine, theirs = stores
    shopper = make_user(Role.MYSTERY)
    now = utcnow()
    soon = make_visit(mine, shopper, 72.0, dispute_until=now + timedelta(days=1))
    later = make_visit(mine, shopper, 91.0, dispute_until=now + timedelta(days=5))
    make_visit(mine, shopper, 60.0, dispute_until=now - timedelta(hours=1))  # window shut
    make_visit(mine, shopper, 60.0, state="final")
    make_visit(mine, shopper, 60.0, state="in_review")  # not released: not the store's
    disputed = make_visit(mine, shopper, 55.0, state="disputed")
    db_session.add(VisitDispute(visit_id=disputed.id, raised_at=now, reason="收银台当天没有排队。"))
    other = make_visit(theirs, shopper, 40.0, dispute_until=now + timedelta(days=2))
    db_session.flush()
    login_as(manager)
    html = client.get("/home", headers=EN).get_data(as_text=True)
    reports = section(html, "open-reports")
    assert ids_in(reports, "report") == [soon.id, later.id, disputed.id]
    assert f'href="/mystery/visits/{soon.id}#action-dispute"' in reports
    assert "the reviewer has not decided yet" in reports
    assert f"/mystery/visits/{other.id}" not in html


def test_award_decisions_on_public_notice_about_their_own_staff(client, db_session, login_as):
    month = build_month(db_session)
    cycle = published(db_session, month, now=utcnow())
    appeal(
        db_session,
        nominations(cycle)["S1"],
        actor=Actor.of_user(month.manager),
        reason="她本月两次迟到的记录有误，请复核考勤。",
        now=utcnow(),
    )
    login_as(month.manager)  # SH-001: S1 and S2 approved; T1 (SH-002) is not theirs
    notices = section(client.get("/home", headers=EN).get_data(as_text=True), "award-notices")
    assert 'href="/awards/2026-10"' in notices
    assert "2 approved, 0 not approved" in notices
    assert "1 appeal waiting for HR" in notices
    assert "you can appeal until" in notices

    cycle.notice_until = utcnow() - timedelta(minutes=1)
    db_session.flush()
    html = client.get("/home", headers=EN).get_data(as_text=True)
    assert "No award decisions to answer." in section(html, "award-notices")


def test_todays_figures_of_their_stores_with_n(client, stores, manager, make_response, login_as):
    mine, theirs = stores
    make_response(mine, mine.staff[0], nps=10, csat=5)
    for _ in range(2):
        make_response(mine, mine.staff[0], nps=6, csat=3, now=utcnow() - timedelta(days=3))
    make_response(mine, mine.staff[0], nps=10, csat=5, now=utcnow() - timedelta(days=9))
    make_response(theirs, theirs.staff[0], nps=10, csat=5)
    login_as(manager)
    html = client.get("/home", headers=EN).get_data(as_text=True)
    today = section(html, "today")
    card = today[today.index('id="today-MY-001"') :]
    assert "1 answer today" in card and 'href="/stores/MY-001"' in card
    # The last 7 days: one promoter and two detractors (the 9-day-old answer is out).
    assert "n = 3" in card
    assert "XX-001" not in html


def test_nothing_waiting_is_said_in_words(client, stores, manager, login_as):
    login_as(manager)
    html = client.get("/home", headers=EN).get_data(as_text=True)
    assert "Nothing waiting for you" in html
    for empty in ("No overdue cases.", "No other open cases.", "No reports to dispute."):
        assert empty in html
    assert "0 answers today" in html


def test_a_manager_without_stores_is_told_to_ask_an_administrator(
    client, db_session, stores, manager, login_as
):
    manager.stores.clear()  # e.g. their store was given to someone else
    db_session.flush()
    login_as(manager)
    html = client.get("/home", headers=EN).get_data(as_text=True)
    assert "No stores are assigned to you yet" in html


def test_the_manager_home_costs_the_same_queries_whatever_the_work(
    client,
    db_session,
    stores,
    manager,
    unhappy,
    make_store,
    make_staff,
    make_response,
    make_user,
    make_visit,
    login_as,
    count_queries,
):
    mine, _ = stores
    shopper = make_user(Role.MYSTERY)
    unhappy(mine, late=timedelta(hours=2))
    unhappy(mine)
    make_visit(mine, shopper, 70.0, dispute_until=utcnow() + timedelta(days=2))
    login_as(manager)
    client.get("/home")
    before = count_queries()
    client.get("/home")
    few = count_queries() - before

    second = make_store("MY-002", name="我的第二家门店")
    make_staff(second, "S001")
    manager.stores.append(second)
    for store in (mine, second):
        for _ in range(12):
            unhappy(store, late=timedelta(hours=2))
            unhappy(store)
            make_response(store, store.staff[0], nps=9, csat=5)
        for _ in range(4):
            make_visit(store, shopper, 70.0, dispute_until=utcnow() + timedelta(days=2))
    db_session.flush()
    before = count_queries()
    html = client.get("/home", headers=EN).get_data(as_text=True)
    assert count_queries() - before == few
    # Ten of each are listed; the rest are one click away.
    assert len(ids_in(section(html, "overdue-cases"), "overdue-case")) == 10
    assert "All 25 overdue cases" in html
