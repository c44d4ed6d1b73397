"""The HR home: award decisions waiting in the month in review, appeals to answer (and who
may not answer them), the coaching list's changes since the month before."""

from __future__ import annotations

from datetime import timedelta

from portal.audit import Actor
from portal.awards.appeals import appeal
from portal.calendar import last_complete_month, previous_month
from portal.db import utcnow
from portal.models import Role
from tests.conftest import post_form
from tests.portal.awards.test_awards import build_month, nominations, opened, published
from tests.portal.home.test_manager_home import EN, section
from tests.portal.hr.test_hr_ranking_queries import answers


def test_decisions_waiting_in_the_month_in_review(client, db_session, login_as):
    month = build_month(db_session)
    opened(db_session, now=utcnow())  # four proposals, none decided
    login_as(month.hr)
    decisions = section(client.get("/home", headers=EN).get_data(as_text=True), "award-decisions")
    assert 'href="/awards/2026-10"' in decisions
    assert "4 nominations waiting for your decision" in decisions
    assert client.get("/awards/2026-10").status_code == 200


def test_appeals_to_answer_say_who_may_not_answer_them(client, db_session, login_as):
    month = build_month(db_session)
    cycle = published(db_session, month, now=utcnow())  # decided by month.hr
    made = appeal(
        db_session,
        nominations(cycle)["S1"],
        actor=Actor.of_user(month.manager),
        reason="考勤记录有误，请复核本月的两次迟到。",
        now=utcnow(),
    )
    login_as(month.hr)
    html = client.get("/home", headers=EN).get_data(as_text=True)
    appeals = section(html, "appeals")
    assert f'id="appeal-item-{made.id}"' in appeals
    assert f'href="/awards/2026-10#appeal-{made.id}"' in appeals
    assert "S1 <bdi>员工S1</bdi>" in appeals and "approved" in appeals
    assert "考勤记录有误" in appeals
    assert "You took this decision" in appeals
    # Nothing left to decide in the published month.
    assert "No award month is in review." in section(html, "award-decisions")

    post_form(client, "/logout", {}, page="/home")
    login_as(month.hr2)
    appeals = section(client.get("/home", headers=EN).get_data(as_text=True), "appeals")
    assert f'id="appeal-item-{made.id}"' in appeals and "You took this decision" not in appeals


def test_the_coaching_list_changes_since_the_month_before(
    client, db_session, make_store, make_staff, make_user, login_as
):
    month = last_complete_month(db_session, utcnow())
    before = previous_month(month)
    store = make_store("CD-001", name="春熙路店", region="西南")
    left = make_staff(store, "W001", name="上月落后")
    entered = make_staff(store, "W002", name="本月落后")
    steady = [make_staff(store, f"K00{i}") for i in range(6)]
    for day, weak, fine in ((before, left, entered), (month, entered, left)):
        answers(db_session, weak, 300, 120, day=day + timedelta(days=14))
        answers(db_session, fine, 200, 180, day=day + timedelta(days=14))
        for person in steady:
            answers(db_session, person, 200, 180, day=day + timedelta(days=14))
    login_as(make_user(Role.HR))
    coaching = section(client.get("/home", headers=EN).get_data(as_text=True), "coaching-changes")
    key = month.strftime("%Y-%m")
    came = coaching[coaching.index('id="coaching-entered"') : coaching.index('id="coaching-left"')]
    went = coaching[coaching.index('id="coaching-left"') :]
    assert f'id="entered-{entered.id}"' in came and f'id="left-{left.id}"' not in came
    assert f'id="left-{left.id}"' in went and f'id="entered-{entered.id}"' not in went
    assert f'href="/hr/staff/{entered.id}?month={key}"' in came
    assert "K000" not in coaching
    assert f'href="/hr/coaching?month={key}"' in coaching


def test_hr_with_nothing_waiting_is_told_so(client, make_user, login_as):
    login_as(make_user(Role.HR))
    html = client.get("/home", headers=EN).get_data(as_text=True)
    assert "Nothing waiting for you" in html
    for empty in (
        "No award month is in review.",
        "No appeals to answer.",
        "Nobody entered or left the coaching list.",
    ):
        assert empty in html
