"""Return-call pages through the test client: the call from a case page (the answer stored
under channel ``phone``, the timeline, the return visit, the recovery rate), the store's
list of customers to call back and a call from it, who may see the numbers, bad input,
stale case pages and CSRF."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.calendar import Period, local_today
from portal.cases.service_level import service_level
from portal.db import utcnow
from portal.models import (
    AuditEntry,
    Case,
    CaseState,
    Channel,
    DailyRollup,
    PhoneVisit,
    Response,
    ReturnVisit,
    Role,
)
from surveys.answers import ContactAnswer
from tests.conftest import csrf_token_from

PHONE = "13800138000"


@pytest.fixture
def chain(make_store, make_staff, make_user):
    """Two stores, each with a manager and a cashier; a region manager of SH-001's region;
    an admin and HR."""
    home = make_store("SH-001", name="徐汇店", region="华东")
    away = make_store("BJ-001", name="朝阳店", region="华北")
    return {
        "home": home,
        "away": away,
        "cashier": make_staff(home, "S001", name="李娜"),
        "manager": make_user(Role.MANAGER, stores=[home], email="boss@sh.example"),
        "other": make_user(Role.MANAGER, stores=[away], email="boss@bj.example"),
        "region": make_user(Role.MANAGER, region="华东", email="region@example.com"),
        "admin": make_user(Role.ADMIN, email="admin@example.com"),
        "hr": make_user(Role.HR, email="hr@example.com"),
    }


@pytest.fixture
def answer(db_session, make_response, chain):
    """An answer to a receipt of SH-001's cashier, with a phone left with consent."""

    def make(nps=9, csat=5, phone=PHONE, email=None, store=None, **kwargs):
        contact = None if phone is None and email is None else ContactAnswer(phone, email)
        cashier = None if store is not None else chain["cashier"]
        return make_response(
            store or chain["home"], cashier, nps=nps, csat=csat, contact=contact, **kwargs
        )

    return make


def case_of(db_session, response):
    return db_session.scalars(select(Case).where(Case.response_id == response.id)).one()


@pytest.fixture
def sign_in(client, login_as):
    def sign_in(user):
        login_as(user)
        client.get("/?lang=en")  # remembered in the session: messages are checked in English

    return sign_in


def post_call(client, url, data):
    """Post the call form as the page renders it (its token and, from a case, version)."""
    page = client.get(url).get_data(as_text=True)
    fields = {"csrf_token": csrf_token_from(page), "note": ""}
    version = re.search(r'name="version"[^>]*value="(\d+)"', page)
    if version:
        fields["version"] = version.group(1)
    fields.update(data)
    return client.post(url, data=fields)


ANSWERED = {"outcome": "answered", "nps": "8", "csat": "4", "problem_solved": "yes"}


def phone_answers(db_session):
    db_session.expire_all()
    stmt = select(Response).where(Response.channel == Channel.PHONE)
    return db_session.scalars(stmt).all()


def visits(db_session):
    return db_session.scalar(select(func.count()).select_from(PhoneVisit))


# -- from a case ------------------------------------------------------------------------


def test_a_call_from_the_case_page_is_recorded_everywhere(
    client, db_session, chain, answer, sign_in
):
    case = case_of(db_session, answer(nps=2, csat=1))
    sign_in(chain["manager"])
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f'href="/cases/{case.id}/phone-visit"' in page
    form = client.get(f"/cases/{case.id}/phone-visit").get_data(as_text=True)
    assert f'href="tel:{PHONE}"' in form and "How likely are you to recommend" in form

    done = post_call(client, f"/cases/{case.id}/phone-visit", {**ANSWERED, "note": "道歉了"})
    assert done.status_code == 302 and done.headers["Location"] == f"/cases/{case.id}"

    (phone,) = phone_answers(db_session)
    assert (phone.nps, phone.csat, phone.staff_id) == (8, 4, chain["cashier"].id)
    assert phone.entered_by_user_id == chain["manager"].id
    rollup = select(func.sum(DailyRollup.responses)).where(
        DailyRollup.store_id == chain["home"].id, DailyRollup.channel == "phone"
    )
    assert db_session.scalar(rollup) == 1
    stored = db_session.get(Case, case.id)
    assert stored.return_visit == ReturnVisit.SATISFIED
    assert stored.state == CaseState.IN_PROGRESS
    # No second case for the same customer.
    assert db_session.scalar(select(func.count()).select_from(Case)) == 1

    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "The call is recorded with the customer&#39;s answers." in page
    timeline = page[page.index('id="timeline"') :]
    said = (
        "<strong>Phone return visit</strong>: The customer answered the questions · problem solved"
    )
    assert said in timeline
    assert "道歉了" in timeline
    today = local_today(chain["home"].timezone, utcnow())
    period = Period(today - timedelta(days=1), today)
    rate = service_level(db_session, chain["home"].id, period, now=utcnow()).recovery_rate
    assert (rate.value, rate.n) == (100.0, 1)


def test_an_unreachable_call_stores_no_answer(client, db_session, chain, answer, sign_in):
    case = case_of(db_session, answer(nps=2, csat=1))
    sign_in(chain["manager"])
    # Scores ticked by mistake are dropped with the outcome.
    done = post_call(
        client, f"/cases/{case.id}/phone-visit", {**ANSWERED, "outcome": "unreachable"}
    )
    assert done.status_code == 302
    assert phone_answers(db_session) == []
    visit = db_session.scalars(select(PhoneVisit)).one()
    assert (visit.outcome, visit.response_id, visit.problem_solved) == ("unreachable", None, None)
    stored = db_session.get(Case, case.id)
    assert (stored.return_visit, stored.state) == (ReturnVisit.UNREACHABLE, CaseState.OPEN)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "<strong>Phone return visit</strong>: Could not reach the customer" in page


def test_a_case_without_a_consented_phone_offers_no_call(
    client, db_session, chain, answer, sign_in
):
    case = case_of(db_session, answer(nps=2, csat=1, phone=None, email="a@example.com"))
    sign_in(chain["manager"])
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "phone-visit" not in page
    assert client.get(f"/cases/{case.id}/phone-visit").status_code == 409
    assert post_call_without_page(client, f"/cases/{case.id}/phone-visit").status_code == 409
    assert visits(db_session) == 0


def post_call_without_page(client, url):
    token = csrf_token_from(client.get("/cases").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "version": "1", **ANSWERED})


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"outcome": ""}, "outcome", "Choose how the call went."),
        ({"outcome": "busy"}, "outcome", "Choose how the call went."),
        ({"nps": ""}, "nps", "Please answer this question."),
        ({"nps": "11"}, "nps", "Please choose one of the numbers."),
        ({"csat": "٥"}, "csat", "Please choose one of the numbers."),
        ({"problem_solved": ""}, "problem_solved", "Choose yes or no."),
        ({"problem_solved": "maybe"}, "problem_solved", "Choose yes or no."),
        ({"note": "x" * 2001}, "note", "2000"),
    ],
)
def test_bad_input_is_refused_on_its_field_and_nothing_is_written(
    client, db_session, chain, answer, sign_in, data, field, message
):
    case = case_of(db_session, answer(nps=2, csat=1))
    version = case.version
    sign_in(chain["manager"])
    refused = post_call(client, f"/cases/{case.id}/phone-visit", {**ANSWERED, **data})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    errors = re.search(rf'id="{field}-errors">(.*?)</ul>', html, re.S)
    assert errors and message in errors.group(1), html
    assert visits(db_session) == 0 and phone_answers(db_session) == []
    assert db_session.get(Case, case.id).version == version


def test_a_call_from_a_stale_case_page_is_refused(client, db_session, chain, answer, sign_in):
    case = case_of(db_session, answer(nps=2, csat=1))
    sign_in(chain["manager"])
    url = f"/cases/{case.id}/phone-visit"
    stale = client.get(url).get_data(as_text=True)
    old = re.search(r'name="version"[^>]*value="(\d+)"', stale).group(1)
    # Another manager records a call meanwhile.
    assert post_call(client, url, {"outcome": "declined"}).status_code == 302
    refused = client.post(
        url, data={"csrf_token": csrf_token_from(stale), "version": old, **ANSWERED}
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "This changed while you were looking at it." in html
    assert visits(db_session) == 1 and phone_answers(db_session) == []
    # The form keeps the answers and carries the current version: a second try works.
    current = re.search(r'name="version"[^>]*value="(\d+)"', html).group(1)
    assert current != old and 'value="8" checked' in html
    assert "Earlier calls" in html


def test_a_post_without_csrf_token_is_refused(client, db_session, chain, answer, sign_in):
    case = case_of(db_session, answer(nps=2, csat=1))
    sign_in(chain["manager"])
    refused = client.post(f"/cases/{case.id}/phone-visit", data={"version": "1", **ANSWERED})
    assert refused.status_code == 400
    assert visits(db_session) == 0


# -- the list of customers to call back ----------------------------------------------------


def test_the_list_shows_consented_customers_not_yet_called_newest_first(
    client, db_session, chain, answer, sign_in
):
    now = utcnow()
    older = answer(phone="13800000001", now=now - timedelta(days=2))
    newer = answer(phone="13800000002", now=now - timedelta(hours=1))
    answer(phone=None, email="only@example.com")  # no phone: not listed
    answer(phone="13800000004", now=now - timedelta(days=40))  # too old
    answer(phone="13800000005", store=chain["away"])  # another store
    unhappy = answer(nps=1, csat=1, phone="13800000006", now=now - timedelta(days=1))
    sign_in(chain["manager"])
    html = client.get("/stores/SH-001/phone-visits").get_data(as_text=True)
    listed = re.findall(r'id="answer-(\d+)"', html)
    assert listed == [str(newer.id), str(unhappy.id), str(older.id)]
    for hidden in ("only@example.com", "13800000004", "13800000005"):
        assert hidden not in html
    assert "3 customers to call" in html
    # The unhappy customer has a case: the call is the case's.
    case = case_of(db_session, unhappy)
    assert f'href="/cases/{case.id}/phone-visit"' in html
    follow = client.get(f"/phone-visits/answers/{unhappy.id}")
    assert follow.status_code == 302
    assert follow.headers["Location"] == f"/cases/{case.id}/phone-visit"

    index = client.get("/phone-visits").get_data(as_text=True)
    assert "SH-001" in index and "BJ-001" not in index
    cases = client.get("/cases").get_data(as_text=True)
    assert 'href="/phone-visits"' in cases


def test_a_call_from_the_list_is_recorded_and_leaves_the_list(
    client, db_session, chain, answer, sign_in
):
    happy = answer(nps=9, csat=5)
    sign_in(chain["manager"])
    url = f"/phone-visits/answers/{happy.id}"
    form = client.get(url).get_data(as_text=True)
    assert f'href="tel:{PHONE}"' in form and 'name="version"' not in form
    # Nobody answers: the customer stays on the list, to try again.
    assert post_call(client, url, {"outcome": "unreachable"}).status_code == 302
    html = client.get("/stores/SH-001/phone-visits").get_data(as_text=True)
    assert f'id="answer-{happy.id}"' in html
    assert "Called once without reaching the customer." in html
    done = post_call(client, url, {**ANSWERED, "nps": "10", "csat": "5"})
    assert done.status_code == 302 and done.headers["Location"] == "/stores/SH-001/phone-visits"

    (phone,) = phone_answers(db_session)
    assert phone.staff_id == chain["cashier"].id and phone.nps == 10
    visit = db_session.scalars(select(PhoneVisit).where(PhoneVisit.outcome == "answered")).one()
    assert (visit.about_response_id, visit.case_id) == (happy.id, None)
    assert db_session.scalar(select(func.count()).select_from(Case)) == 0
    audit = select(AuditEntry.actor).where(AuditEntry.action == "phone_visit.recorded")
    assert db_session.scalars(audit).all() == ["user:boss@sh.example"] * 2
    html = client.get("/stores/SH-001/phone-visits").get_data(as_text=True)
    assert f'id="answer-{happy.id}"' not in html and "Nobody is waiting for a call." in html
    # The audit log says it in words.
    sign_in(chain["admin"])
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "Phone return visit recorded" in log and "How the call went" in log


def test_the_list_is_paginated(client, db_session, chain, answer, sign_in):
    now = utcnow()
    for n in range(27):
        answer(phone=f"139000000{n:02d}", now=now - timedelta(minutes=n + 1))
    sign_in(chain["manager"])
    first = client.get("/stores/SH-001/phone-visits").get_data(as_text=True)
    second = client.get("/stores/SH-001/phone-visits?page=2").get_data(as_text=True)
    assert len(re.findall(r'id="answer-\d+"', first)) == 25
    assert len(re.findall(r'id="answer-\d+"', second)) == 2
    assert "/stores/SH-001/phone-visits?page=2" in first
    assert client.get("/stores/SH-001/phone-visits?page=x").status_code == 400


# -- who may call ---------------------------------------------------------------------------


def test_another_stores_manager_sees_and_records_nothing(
    client, db_session, chain, answer, sign_in
):
    happy = answer()
    case = case_of(db_session, answer(nps=2, csat=1))
    sign_in(chain["other"])
    for url in (
        "/stores/SH-001/phone-visits",
        f"/phone-visits/answers/{happy.id}",
        f"/cases/{case.id}/phone-visit",
    ):
        assert client.get(url).status_code == 404, url
    token = csrf_token_from(client.get("/phone-visits").get_data(as_text=True))
    for url in (f"/phone-visits/answers/{happy.id}", f"/cases/{case.id}/phone-visit"):
        posted = client.post(url, data={"csrf_token": token, "version": "1", **ANSWERED})
        assert posted.status_code == 404, url
    assert visits(db_session) == 0
    assert PHONE not in client.get("/phone-visits").get_data(as_text=True)


def test_roles_without_contact_details_are_refused(client, chain, answer, sign_in):
    happy = answer()
    sign_in(chain["hr"])
    for url in (
        "/phone-visits",
        "/stores/SH-001/phone-visits",
        f"/phone-visits/answers/{happy.id}",
    ):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("who", ["region", "admin"])
def test_region_managers_and_admins_see_the_list(client, chain, answer, sign_in, who):
    answer()
    sign_in(chain[who])
    html = client.get("/stores/SH-001/phone-visits").get_data(as_text=True)
    assert PHONE in html


def test_every_phone_route_declares_its_roles(app):
    found = {
        rule.endpoint: app.view_functions[rule.endpoint].portal_roles
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("phone.")
    }
    assert set(found) == {"phone.index", "phone.store", "phone.call_answer", "phone.call_case"}
    assert all(roles == {Role.MANAGER, Role.ADMIN} for roles in found.values())
