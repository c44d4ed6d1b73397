"""The mystery shopper's home (their own assignments by next step, with address and
window) and the reviewer's (the QA queue with each flag in words, disputes to decide,
stores without a visit this month)."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.calendar import local_today
from portal.db import utcnow
from portal.models import Role, VisitDispute, VisitEvent
from tests.portal.home.test_manager_home import EN, ids_in, section


def test_a_shopper_sees_their_assignments_by_next_step_with_address_and_window(
    client, db_session, make_store, make_user, make_visit, login_as
):
    store = make_store("SH-009", name="静安店", address="上海市静安区南京西路 1 号")
    elsewhere = make_store("SH-010", name="无任务的门店")
    me, other = make_user(Role.MYSTERY), make_user(Role.MYSTERY)
    today = local_today(None, utcnow())
    new = make_visit(store, me, 0.0, state="assigned", day=today + timedelta(days=2))
    accepted = make_visit(store, me, 0.0, state="accepted", day=today + timedelta(days=1))
    draft = make_visit(store, me, 0.0, state="accepted", day=today)
    db_session.add(VisitEvent(visit_id=draft.id, actor=me.email, kind="draft_saved"))
    returned = make_visit(
        store, me, 0.0, state="returned", review_note="请补拍收据照片。", day=today
    )
    filed = make_visit(store, me, 0.0, state="submitted")
    theirs = make_visit(store, other, 0.0, state="assigned")
    db_session.flush()
    login_as(me)
    html = client.get("/home", headers=EN).get_data(as_text=True)

    assert ids_in(section(html, "to-accept"), "assignment") == [new.id]
    assert ids_in(section(html, "to-visit"), "assignment") == [accepted.id]
    assert ids_in(section(html, "drafts"), "assignment") == [draft.id]
    assert ids_in(section(html, "returned"), "assignment") == [returned.id]
    for gone in (filed, theirs):
        assert f"/mystery/visits/{gone.id}" not in html
    assert "无任务的门店" not in html and elsewhere.code not in html
    accept = section(html, "to-accept")
    assert "Address: <bdi>上海市静安区南京西路 1 号</bdi>" in accept
    start = (today + timedelta(days=2)).isoformat()
    assert f"Visit between {start} and {start}" in accept and "Morning (until 11:00)" in accept
    assert f'href="/mystery/visits/{new.id}#action-accept"' in accept
    assert f'href="/mystery/visits/{accepted.id}/report/visit"' in section(html, "to-visit")
    assert "请补拍收据照片。" in section(html, "returned")
    # Each link leads to the page where the step is done.
    assert client.get(f"/mystery/visits/{accepted.id}/report/visit").status_code == 200


def test_a_shopper_whose_window_is_over_is_told(
    client, make_store, make_user, make_visit, login_as
):
    me = make_user(Role.MYSTERY)
    past = local_today(None, utcnow()) - timedelta(days=3)
    make_visit(make_store(), me, 0.0, state="accepted", day=past)
    login_as(me)
    assert "the window is over" in client.get("/home", headers=EN).get_data(as_text=True)


def test_a_shopper_with_nothing_to_do_is_told_so(client, make_store, make_user, login_as):
    make_store("SH-011")
    login_as(make_user(Role.MYSTERY))
    html = client.get("/home", headers=EN).get_data(as_text=True)
    assert "Nothing waiting for you" in html and "No new assignments." in html
    assert "SH-011" not in html


def test_the_qa_queue_lists_the_longest_waiting_first_with_each_flag_in_words(
    client, db_session, make_store, make_user, make_visit, login_as
):
    store = make_store("SH-020", name="浦东店")
    shopper, reviewer = make_user(Role.MYSTERY), make_user(Role.REVIEWER)
    colleague = make_user(Role.REVIEWER, name="王审核")
    now = utcnow()
    recent = make_visit(store, shopper, 80.0, state="submitted", submitted_at=now)
    oldest = make_visit(
        store,
        shopper,
        80.0,
        state="submitted",
        submitted_at=now - timedelta(days=2),
    )
    oldest.flags = ["late", "receipt_not_found"]
    taken = make_visit(
        store,
        shopper,
        80.0,
        state="in_review",
        submitted_at=now - timedelta(days=1),
        reviewer_id=colleague.id,
    )
    make_visit(store, shopper, 80.0, state="released")
    disputed = make_visit(store, shopper, 80.0, state="disputed")
    db_session.add(
        VisitDispute(visit_id=disputed.id, raised_at=now, item_key="C3", reason="当天没有排队。")
    )
    db_session.flush()
    login_as(reviewer)
    html = client.get("/home", headers=EN).get_data(as_text=True)
    queue = section(html, "qa-queue")
    assert ids_in(queue, "queue") == [oldest.id, taken.id, recent.id]
    first = queue[queue.index(f'id="queue-{oldest.id}"') : queue.index(f'id="queue-{taken.id}"')]
    assert "Filed more than 24 hours after the visit" in first
    assert "No POS receipt with this transaction number at this store" in first
    assert "taken by <bdi>王审核</bdi>" in queue
    assert "No automatic check flagged it." in queue
    disputes = section(html, "disputes")
    assert ids_in(disputes, "dispute") == [disputed.id]
    assert f'href="/mystery/visits/{disputed.id}#action-decide"' in disputes
    assert "item C3" in disputes and "当天没有排队。" in disputes


def test_stores_without_a_visit_this_month_link_to_scheduling_one(
    client, make_store, make_user, make_visit, login_as
):
    shopper, reviewer = make_user(Role.MYSTERY), make_user(Role.REVIEWER)
    visited, declined, never = make_store("A-001"), make_store("B-001"), make_store("C-001")
    make_store("D-001", closed_at=utcnow() - timedelta(days=1))
    make_visit(visited, shopper, 0.0, state="accepted")
    make_visit(declined, shopper, 0.0, state="declined")
    make_visit(never, shopper, 0.0, state="cancelled")
    login_as(reviewer)
    html = client.get("/home", headers=EN).get_data(as_text=True)
    to_schedule = section(html, "to-schedule")
    # The store a shopper turned down first, then the rest by region and code.
    assert re.findall(r'id="schedule-([A-Z]-\d+)"', to_schedule) == ["B-001", "C-001"]
    assert "1 assignment declined" in to_schedule
    link = "/mystery/schedule?store=B-001"
    assert f'href="{link}"' in to_schedule
    form = client.get(link, headers=EN).get_data(as_text=True)
    assert re.search(r'<option[^>]*selected[^>]*value="B-001"|value="B-001"[^>]*selected', form)


def test_a_reviewer_with_nothing_to_do_is_told_so(client, make_user, login_as):
    login_as(make_user(Role.REVIEWER))
    html = client.get("/home", headers=EN).get_data(as_text=True)
    assert "Nothing waiting for you" in html
    for empty in ("No reports waiting for review.", "No disputes to decide."):
        assert empty in html


def test_the_admin_home_keeps_the_chain_activity_and_leads_to_the_console(
    client, make_store, make_user, login_as
):
    make_store("SH-030", name="长宁店")
    login_as(make_user(Role.ADMIN))
    html = client.get("/home", headers=EN).get_data(as_text=True)
    assert 'href="/admin"' in html and "Admin console" in html
    assert 'href="/stores/SH-030"' in html and "Latest responses" in html
