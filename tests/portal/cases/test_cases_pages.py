"""Case pages through the test client: scoping, the list's order and filters, every action
on the case page, refused and stale transitions, manual cases, the customer's follow-up
link, the mail outbox, and the ``overdue`` and ``send-mail`` commands."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.cases.operations import FOLLOW_UP_PURPOSE
from portal.db import utcnow
from portal.models import (
    AuditEntry,
    Case,
    CaseEvent,
    CaseState,
    FollowUp,
    OutboxMessage,
    Role,
)
from portal.shopper.operations import record_response
from surveys.answers import Answers, ContactAnswer
from surveys.loader import receipt_survey
from surveys.tokens import sign_receipt_token
from tests.conftest import SECRET, SETTINGS, csrf_token_from, post_form

EN = {"Accept-Language": "en"}


@pytest.fixture
def chain(make_store, make_staff, make_user):
    """Two stores, each with a manager; a second manager for SH-001; an admin."""
    home = make_store("SH-001", name="徐汇店")
    away = make_store("BJ-001", name="朝阳店")
    make_staff(home, "S001", name="李娜")
    make_staff(away, "S001", name="张伟")
    return {
        "home": home,
        "away": away,
        "manager": make_user(Role.MANAGER, stores=[home], email="boss@sh.example"),
        "deputy": make_user(Role.MANAGER, stores=[home], email="deputy@sh.example"),
        "other": make_user(Role.MANAGER, stores=[away], email="boss@bj.example"),
        "admin": make_user(Role.ADMIN, email="admin@example.com"),
    }


@pytest.fixture
def survey_case(db_session, make_receipt):
    """Answer a receipt unhappily; returns the case the answer opened."""

    def make(store, *, nps=2, csat=1, category="service_attitude", phone=None, email=None, **kw):
        issued = make_receipt(store, store.staff[0] if store.staff else None)
        contact = None if phone is None and email is None else ContactAnswer(phone, email)
        response = record_response(
            db_session,
            settings=SETTINGS,
            receipt=issued.receipt,
            definition=receipt_survey(),
            answers=Answers(
                nps=nps,
                csat=csat,
                ratings={"rating_friendliness": 1},
                problem_reported=category is not None,
                problem_category=category,
                comment=kw.pop("comment", "收银员态度很差"),
                contact=contact,
            ),
            locale="zh_CN",
            now=utcnow(),
        )
        db_session.flush()
        return db_session.scalars(select(Case).where(Case.response_id == response.id)).one()

    return make


@pytest.fixture
def sign_in(client, login_as):
    def sign_in(user):
        login_as(user)
        client.get("/?lang=en")  # remembered in the session: messages are checked in English

    return sign_in


def make_overdue(db_session, case, hours=1):
    case.first_response_due_at = utcnow() - timedelta(hours=hours)
    db_session.flush()


def act(client, case_id, action, data=None):
    """Post one action form of the case page, as the page renders it (token, version)."""
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    version = re.search(r'name="[a-z-]+-version"[^>]*value="(\d+)"', page)
    assert version, "no action form on the case page"
    fields = {f"{action}-{name}": value for name, value in (data or {}).items()}
    fields.setdefault(f"{action}-version", version.group(1))
    fields[f"{action}-csrf_token"] = csrf_token_from(page)
    return client.post(f"/cases/{case_id}/{action}", data=fields)


def state_of(db_session, case):
    db_session.expire_all()
    return db_session.get(Case, case.id).state


def kinds(db_session, case):
    stmt = select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    return db_session.scalars(stmt).all()


# -- access and scoping -----------------------------------------------------------------


def test_every_case_route_declares_its_roles(app):
    expected = {
        "cases.index": {Role.MANAGER, Role.ADMIN},
        "cases.detail": {Role.MANAGER, Role.ADMIN},
        "cases.act": {Role.MANAGER, Role.ADMIN},
        "cases.new": {Role.MANAGER, Role.ADMIN},
        "cases.outbox": {Role.ADMIN},
        "cases.follow_up": None,
        "cases.answer": None,
    }
    found = {
        rule.endpoint: app.view_functions[rule.endpoint].portal_roles
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("cases.")
    }
    assert found == expected


@pytest.mark.parametrize("role", [Role.HR, Role.REVIEWER, Role.MYSTERY])
def test_other_roles_cannot_open_cases(client, chain, survey_case, make_user, sign_in, role):
    case = survey_case(chain["home"], phone="13800000001")
    sign_in(make_user(role))
    for url in ("/cases", f"/cases/{case.id}", "/cases/new", "/outbox"):
        assert client.get(url).status_code == 403, url


def test_signed_out_visitors_are_sent_to_sign_in(client, chain, survey_case):
    case = survey_case(chain["home"])
    answer = client.get(f"/cases/{case.id}")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_manager_sees_only_their_stores_cases(client, chain, survey_case, sign_in):
    mine = survey_case(chain["home"], phone="13800000001", comment="mine")
    theirs = survey_case(chain["away"], phone="13900000002", comment="theirs")
    sign_in(chain["manager"])
    listing = client.get("/cases").get_data(as_text=True)
    assert f'id="case-{mine.id}"' in listing and f'id="case-{theirs.id}"' not in listing
    page = client.get(f"/cases/{mine.id}")
    assert page.status_code == 200 and "13800000001" in page.get_data(as_text=True)
    # Another store's case is "no such case", with nothing of it on any page.
    pages = [listing, page.get_data(as_text=True)]
    hidden = client.get(f"/cases/{theirs.id}")
    assert hidden.status_code == 404
    pages += [hidden.get_data(as_text=True), client.get("/cases?store=BJ-001").text]
    posted = act(client, mine.id, "note", {"note": "n"})  # a token from a page of mine
    assert posted.status_code == 302
    token = csrf_token_from(client.get("/cases").get_data(as_text=True))
    refused = client.post(
        f"/cases/{theirs.id}/note", data={"note-csrf_token": token, "note-note": "x"}
    )
    assert refused.status_code == 404
    pages.append(refused.get_data(as_text=True))
    assert not any("13900000002" in html or "theirs" in html for html in pages)


def test_an_admin_sees_every_store(client, chain, survey_case, sign_in):
    cases = [survey_case(chain["home"]), survey_case(chain["away"])]
    sign_in(chain["admin"])
    listing = client.get("/cases").get_data(as_text=True)
    assert all(f'id="case-{case.id}"' in listing for case in cases)
    assert client.get(f"/cases/{cases[1].id}").status_code == 200


@pytest.fixture(autouse=True)
def english(client):
    """These tests read the English texts; the Chinese ones are checked by the catalog tests."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


# -- the list -----------------------------------------------------------------------------


def test_overdue_cases_come_first_with_a_badge(client, db_session, chain, survey_case, sign_in):
    waiting = survey_case(chain["home"])
    late = survey_case(chain["home"])
    done = survey_case(chain["home"])
    done.state = CaseState.CLOSED
    make_overdue(db_session, done, hours=5)  # closed: not overdue whatever its deadline
    make_overdue(db_session, late)
    sign_in(chain["manager"])
    html = client.get("/cases?state=all").get_data(as_text=True)
    rows = re.findall(r'<li id="case-(\d+)" class="response case( detractor overdue)?"', html)
    assert rows == [(str(late.id), " detractor overdue"), (str(waiting.id), ""), (str(done.id), "")]
    late_row = html[html.index(f'id="case-{late.id}"') : html.index(f'id="case-{waiting.id}"')]
    assert 'class="flag badge-overdue">overdue<' in late_row
    assert html.count("badge-overdue") == 1
    only = client.get("/cases?overdue=yes").get_data(as_text=True)
    assert re.findall(r'<li id="case-(\d+)"', only) == [str(late.id)]


def test_list_filters(client, db_session, chain, survey_case, sign_in, make_store, make_user):
    price = survey_case(chain["home"], category="price")
    attitude = survey_case(chain["home"], category="service_attitude")
    attitude.assignee_id = None
    attitude.state = CaseState.IN_PROGRESS
    second = make_store("SH-002", name="静安店")
    elsewhere = survey_case(second, category=None, nps=3)
    chain["manager"].stores.append(second)
    db_session.flush()
    sign_in(chain["manager"])

    def listed(query):
        html = client.get(f"/cases?{query}").get_data(as_text=True)
        return {int(n) for n in re.findall(r'<li id="case-(\d+)"', html)}

    assert listed("") == {price.id, attitude.id, elsewhere.id}
    assert listed("state=in_progress") == {attitude.id}
    assert listed("category=price") == {price.id}
    assert listed("store=SH-002") == {elsewhere.id}
    assert listed("store=BJ-001") == set()
    # SH-002 had no manager when its case opened, so nobody got it; SH-001's went to its
    # longest-standing manager.
    assert listed("assignee=unassigned") == {attitude.id, elsewhere.id}
    assert listed("assignee=me") == {price.id}
    assert listed("assignee=me&overdue=yes") == set()
    assert listed("state=nonsense") == set()


def test_the_list_shows_the_cases_still_to_do_unless_asked_for_others(
    client, db_session, chain, survey_case, sign_in
):
    cases = {state: survey_case(chain["home"]) for state in CaseState}
    for state, case in cases.items():
        case.state = state
    db_session.flush()
    sign_in(chain["manager"])

    def listed(query):
        html = client.get(f"/cases{query}").get_data(as_text=True)
        return {int(n) for n in re.findall(r'<li id="case-(\d+)"', html)}

    ids = {state: case.id for state, case in cases.items()}
    assert listed("") == {ids[CaseState.OPEN], ids[CaseState.IN_PROGRESS]}
    assert listed("?state=all") == set(ids.values())
    assert listed("?state=finished") == {ids[CaseState.RESOLVED], ids[CaseState.CLOSED]}
    assert listed("?state=closed") == {ids[CaseState.CLOSED]}
    form = client.get("/cases").get_data(as_text=True)
    assert "still to do (open or in progress)" in form and '<option value="all"' in form


def test_a_case_card_shows_the_score_category_and_the_comments_first_words_masked(
    client, chain, survey_case, sign_in
):
    long = "收银员态度很差，我打了 13912345678 也没人接。" + "后来又等了很久才有人来处理。" * 5
    case = survey_case(chain["home"], nps=3, csat=2, category="price", comment=long)
    sign_in(chain["manager"])
    html = client.get("/cases").get_data(as_text=True)
    card = html[html.index(f'id="case-{case.id}"') :]
    card = card[: card.index("</li>")]
    assert "Recommend <strong>3</strong>/10" in card and "Satisfaction <strong>2</strong>/5" in card
    assert 'class="tag">Price' in card
    excerpt = re.search(r'class="comment excerpt" dir="auto"><bdi>([^<]*)</bdi>', card).group(1)
    assert excerpt.startswith("收银员态度很差") and excerpt.endswith("…")
    assert len(excerpt) <= 81 and "13912345678" not in card and "*******5678" in excerpt


def test_the_list_is_paginated_with_its_filters(client, chain, survey_case, sign_in):
    for _ in range(27):
        survey_case(chain["home"], category="price")
    sign_in(chain["manager"])
    first = client.get("/cases?category=price").get_data(as_text=True)
    assert first.count('<li id="case-') == 25
    assert "/cases?category=price&amp;page=2" in first or "page=2&amp;category=price" in first
    second = client.get("/cases?category=price&page=2").get_data(as_text=True)
    assert second.count('<li id="case-') == 2


# -- the case page and its actions ----------------------------------------------------------


def test_the_case_page_shows_the_answer_contact_and_timeline(client, chain, survey_case, sign_in):
    case = survey_case(chain["home"], phone="13800000001", email="kunde@example.com")
    sign_in(chain["manager"])
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    for text in (
        "收银员态度很差",  # the comment
        "<strong>2</strong>/10",
        "<strong>1</strong>/5",
        "S001 李娜",
        "13800000001",
        "kunde@example.com",
        "Opened",
        'id="action-contact"',
    ):
        assert text in html, text
    assert 'id="action-resolve"' not in html and 'id="action-close"' not in html


def test_each_action_changes_the_case_and_adds_a_timeline_line(
    client, db_session, chain, survey_case, sign_in
):
    case = survey_case(chain["home"], phone="13800000001")
    sign_in(chain["manager"])
    steps = [
        ("contact", {"note": "打了电话"}, CaseState.IN_PROGRESS, "contacted"),
        ("assign", {"assignee": chain["deputy"].id}, CaseState.IN_PROGRESS, "assigned"),
        ("note", {"note": "客户下周来店"}, CaseState.IN_PROGRESS, "note"),
        ("resolve", {"resolution": "apology", "note": "当面道歉"}, CaseState.RESOLVED, "resolved"),
        ("close", {"return_visit": "satisfied", "note": ""}, CaseState.CLOSED, "closed"),
        ("reopen", {"note": "客户又来投诉"}, CaseState.IN_PROGRESS, "reopened"),
    ]
    for action, data, state, kind in steps:
        before = len(kinds(db_session, case))
        answer = act(client, case.id, action, data)
        assert answer.status_code == 302, (action, answer.get_data(as_text=True)[:3000])
        assert state_of(db_session, case) == state
        assert kinds(db_session, case)[before:] == [kind]
        page = client.get(answer.headers["Location"]).get_data(as_text=True)
        assert 'class="flash flash-success"' in page
    fresh = db_session.get(Case, case.id)
    assert fresh.assignee_id == chain["deputy"].id
    assert fresh.first_contact_at is not None and fresh.resolution is None  # reopened
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    for text in (
        "打了电话",
        "客户下周来店",
        "Apology",
        "Satisfied",
        "客户又来投诉",
        "deputy@sh.example",
    ):
        assert text in html, text
    audited = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.subject_type == "case").order_by(AuditEntry.id)
    ).all()
    assert audited == [
        "case.open",
        "case.contacted",
        "case.assigned",
        "case.note",
        "case.resolved",
        "case.closed",
        "case.reopened",
    ]


def test_closing_an_open_case_is_refused_with_the_reason(
    client, db_session, chain, survey_case, sign_in
):
    case = survey_case(chain["home"])
    sign_in(chain["manager"])
    before = kinds(db_session, case)
    answer = act(client, case.id, "close", {"return_visit": "satisfied"})
    assert answer.status_code == 409
    assert "Resolve the case before closing it." in answer.get_data(as_text=True)
    assert state_of(db_session, case) == CaseState.OPEN
    assert kinds(db_session, case) == before


def test_logging_a_contact_on_a_resolved_case_is_refused(
    client, db_session, chain, survey_case, sign_in
):
    case = survey_case(chain["home"])
    sign_in(chain["manager"])
    act(client, case.id, "contact")
    act(client, case.id, "resolve", {"resolution": "apology", "note": "sorry"})
    answer = act(client, case.id, "contact", {"note": "again"})
    assert answer.status_code == 409
    assert "The first contact is already logged." in answer.get_data(as_text=True)
    assert state_of(db_session, case) == CaseState.RESOLVED


def test_a_form_from_a_stale_page_is_refused(client, db_session, chain, survey_case, sign_in):
    case = survey_case(chain["home"])
    sign_in(chain["manager"])
    stale = client.get(f"/cases/{case.id}").get_data(as_text=True)
    old_version = re.search(r'name="note-version"[^>]*value="(\d+)"', stale).group(1)
    assert act(client, case.id, "contact", {"note": "called"}).status_code == 302
    # A second manager's tab, rendered before the contact, now tries to resolve.
    answer = act(
        client,
        case.id,
        "resolve",
        {"resolution": "refund", "note": "refunded", "version": old_version},
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "This changed while you were looking at it." in html
    assert state_of(db_session, case) == CaseState.IN_PROGRESS
    # The form keeps what was typed and now carries the current version: a second try works.
    assert "refunded" in html
    current = re.search(r'name="resolve-version"[^>]*value="(\d+)"', html).group(1)
    assert current != old_version


def test_an_invalid_form_shows_field_errors(client, db_session, chain, survey_case, sign_in):
    case = survey_case(chain["home"])
    sign_in(chain["manager"])
    act(client, case.id, "contact")
    answer = act(client, case.id, "resolve", {"resolution": "apology", "note": "  "})
    assert answer.status_code == 400
    assert 'id="resolve-note-errors"' in answer.get_data(as_text=True)
    assert state_of(db_session, case) == CaseState.IN_PROGRESS


def test_assigning_to_a_manager_of_another_store_is_refused(
    client, db_session, chain, survey_case, sign_in
):
    case = survey_case(chain["home"])
    sign_in(chain["manager"])
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "boss@bj.example" not in page and "admin@example.com" in page
    answer = act(client, case.id, "assign", {"assignee": chain["other"].id})
    assert answer.status_code == 400
    db_session.expire_all()
    assert db_session.get(Case, case.id).assignee_id == chain["manager"].id


def test_a_post_without_csrf_token_is_refused(client, db_session, chain, survey_case, sign_in):
    case = survey_case(chain["home"])
    sign_in(chain["manager"])
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    version = re.search(r'name="contact-version"[^>]*value="(\d+)"', page).group(1)
    answer = client.post(f"/cases/{case.id}/contact", data={"contact-version": version})
    assert answer.status_code == 400
    assert state_of(db_session, case) == CaseState.OPEN


# -- a case opened by hand ----------------------------------------------------------------


def new_case(client, **fields):
    data = {
        "store": "SH-001",
        "category": "product_quality",
        "summary": "买的牛奶过期了",
        "staff_code": "",
        "contact_name": "",
        "contact_phone": "",
        "contact_email": "",
    }
    data.update(fields)
    return post_form(client, "/cases/new", data)


def test_a_manager_opens_a_case_by_hand(client, db_session, chain, sign_in):
    sign_in(chain["manager"])
    form = client.get("/cases/new").get_data(as_text=True)
    assert "SH-001" in form and "BJ-001" not in form
    answer = new_case(
        client, staff_code="S001", contact_name="王女士", contact_phone="13700000003", consent="y"
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    case = db_session.scalars(select(Case).where(Case.source == "manual")).one()
    assert answer.headers["Location"] == f"/cases/{case.id}"
    assert (case.store_id, case.category, case.reasons) == (
        chain["home"].id,
        "product_quality",
        "complaint",
    )
    assert case.contact_phone == "13700000003" and case.staff.code == "S001"
    assert case.assignee_id == chain["manager"].id
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "王女士" in html and "买的牛奶过期了" in html


def test_contact_details_without_consent_are_refused(client, db_session, chain, sign_in):
    sign_in(chain["manager"])
    answer = new_case(client, contact_phone="13700000003")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="consent-errors"' in html
    assert "Record contact details only when the customer agrees to be contacted." in html
    assert db_session.scalar(select(func.count(Case.id))) == 0


def test_a_manual_case_for_another_store_or_staff_is_refused(client, db_session, chain, sign_in):
    sign_in(chain["manager"])
    assert new_case(client, store="BJ-001").status_code == 400
    unknown = new_case(client, staff_code="S999")
    assert unknown.status_code == 400 and 'id="staff_code-errors"' in unknown.get_data(as_text=True)
    assert db_session.scalar(select(func.count(Case.id))) == 0


# -- the follow-up link -----------------------------------------------------------------------


def resolved_case(client, db_session, survey_case, chain, **contact):
    case = survey_case(chain["home"], **contact)
    assert act(client, case.id, "contact").status_code == 302
    resolved = act(client, case.id, "resolve", {"resolution": "voucher", "note": "送了代金券"})
    assert resolved.status_code == 302
    return case


def create_link(client, case):
    answer = act(client, case.id, "follow-up")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:2000]
    assert answer.headers["Cache-Control"] == "no-store"
    link = re.search(r"http://portal\.test(/f/[A-Za-z0-9_.\-]+)", answer.get_data(as_text=True))
    assert link
    return link.group(1)


@pytest.mark.parametrize(("score", "outcome"), [(5, "satisfied"), (2, "unsatisfied")])
def test_the_follow_up_answer_closes_the_case(
    client, db_session, chain, survey_case, sign_in, score, outcome
):
    sign_in(chain["manager"])
    case = resolved_case(client, db_session, survey_case, chain, email="kunde@example.com")
    path = create_link(client, case)
    mail = db_session.scalars(select(OutboxMessage).where(OutboxMessage.to == "kunde@example.com"))
    assert path in mail.one().body
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/cases").text)})

    form = client.get(path, headers=EN)
    assert form.status_code == 200 and "Was your problem solved?" in form.get_data(as_text=True)
    token = csrf_token_from(form.get_data(as_text=True))
    unsigned = client.post(path, data={"score": str(score)}, headers=EN)
    assert unsigned.status_code == 400 and 'id="score-' in unsigned.get_data(as_text=True)
    thanks = client.post(path, data={"csrf_token": token, "score": str(score)}, headers=EN)
    assert thanks.status_code == 200 and "Thank you!" in thanks.get_data(as_text=True)
    db_session.expire_all()
    closed = db_session.get(Case, case.id)
    assert (closed.state, closed.return_visit) == (CaseState.CLOSED, outcome)
    assert db_session.scalars(select(FollowUp.score)).one() == score
    assert kinds(db_session, case)[-2:] == ["follow_up_answered", "closed"]

    again = client.post(path, data={"csrf_token": token, "score": "1"}, headers=EN)
    assert again.status_code == 409
    assert "You have already answered." in again.get_data(as_text=True)
    assert client.get(path, headers=EN).status_code == 200  # opening it again is harmless
    assert db_session.scalars(select(FollowUp.score)).one() == score


def test_a_follow_up_link_without_email_is_shown_for_hand_delivery(
    client, db_session, chain, survey_case, sign_in
):
    sign_in(chain["manager"])
    case = resolved_case(client, db_session, survey_case, chain, phone="13800000001")
    path = create_link(client, case)
    assert (
        db_session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.body.contains(path))
        )
        == 0
    )
    # Once: the page no longer offers it, and a second post is refused.
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert path not in page and 'id="action-follow-up"' not in page
    assert act(client, case.id, "follow-up").status_code == 409


def test_no_follow_up_without_consented_contact(client, db_session, chain, survey_case, sign_in):
    sign_in(chain["manager"])
    case = resolved_case(client, db_session, survey_case, chain)
    assert 'id="action-follow-up"' not in client.get(f"/cases/{case.id}").get_data(as_text=True)
    answer = act(client, case.id, "follow-up")
    assert answer.status_code == 409
    assert "no contact details" in answer.get_data(as_text=True)


def test_forged_expired_and_misused_links(client, db_session, chain, make_receipt):
    assert client.get("/f/nonsense", headers=EN).status_code == 404
    expired = sign_receipt_token(
        SECRET, "abcdefgh", utcnow() - timedelta(days=1), purpose=FOLLOW_UP_PURPOSE
    )
    assert client.get(f"/f/{expired}", headers=EN).status_code == 410
    unknown = sign_receipt_token(
        SECRET, "abcdefgh", utcnow() + timedelta(days=1), purpose=FOLLOW_UP_PURPOSE
    )
    assert client.get(f"/f/{unknown}", headers=EN).status_code == 404
    # A receipt's survey token is signed for another purpose: not a follow-up link.
    survey_token = make_receipt(chain["home"], None).token
    assert client.get(f"/f/{survey_token}", headers=EN).status_code == 404
    assert client.post(f"/f/{survey_token}", data={"score": "5"}).status_code == 404


# -- the outbox and the commands ------------------------------------------------------------


def test_the_outbox_lists_the_new_case_mail_for_admins_only(client, chain, survey_case, sign_in):
    case = survey_case(chain["home"])
    sign_in(chain["manager"])
    assert client.get("/outbox").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/cases").text)})
    sign_in(chain["admin"])
    html = client.get("/outbox").get_data(as_text=True)
    assert "boss@sh.example" in html
    # Written in the assignee's language (outside a request, as here, the English).
    assert f"[新个案] #{case.id}" in html or f"[New case] #{case.id}" in html
    assert f"/cases/{case.id}" in html and "not sent yet" in html


def test_overdue_notifies_each_overdue_case_once(runner, db_session, chain, survey_case):
    late = survey_case(chain["home"])
    later = survey_case(chain["away"])
    survey_case(chain["home"])  # not due yet
    make_overdue(db_session, late, hours=3)
    make_overdue(db_session, later, hours=1)

    def overdue_mails():
        stmt = select(OutboxMessage.to).where(OutboxMessage.subject.startswith("[逾期]"))
        return sorted(db_session.scalars(stmt))

    first = runner.invoke(args=["overdue"])
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines[0].startswith(f"#{late.id}\tSH-001\tdue ") and lines[0].endswith("notified now")
    assert lines[1].startswith(f"#{later.id}\tBJ-001\tdue ") and "boss@bj.example" in lines[1]
    assert "2 overdue case(s), 2 notified now." in first.output
    assert "Mail: 0 sent" in first.output
    assert overdue_mails() == ["boss@bj.example", "boss@sh.example"]

    second = runner.invoke(args=["overdue"])
    assert second.exit_code == 0, second.output
    assert "2 overdue case(s), 0 notified now." in second.output
    assert overdue_mails() == ["boss@bj.example", "boss@sh.example"]
    assert kinds(db_session, late).count("overdue_notified") == 1


def test_send_mail_without_smtp_sends_nothing(runner, db_session, chain, survey_case):
    survey_case(chain["home"])
    answer = runner.invoke(args=["send-mail"])
    assert answer.exit_code == 0, answer.output
    assert "0 sent" in answer.output
    assert (
        db_session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_not(None))
        )
        == 0
    )
