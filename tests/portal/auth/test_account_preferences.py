"""Display names and language preferences: the name replaces the e-mail in timelines
(cases, mystery visits) and "set by" lines; the user sets both on the settings page; the
language is used for their pages once signed in, a switch on a page updates it, and mail
to them (case notifications) is written in it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit import Actor
from portal.cases.operations import assign_case, log_contact
from portal.db import utcnow
from portal.models import Case, OutboxMessage, Role
from portal.mystery.scheduling import VisitPlan, schedule_visit
from tests.conftest import PASSWORD, SETTINGS, post_form


def timeline_of(html: str) -> str:
    match = re.search(r'<ol class="responses timeline" id="timeline">(.*?)</ol>', html, re.S)
    assert match, "no timeline on the page"
    return match.group(1)


@pytest.fixture
def store(make_store, make_staff):
    store = make_store("SH-001", name="徐汇店")
    make_staff(store, "S001")
    return store


def unhappy_case(db_session, make_response, store) -> Case:
    response = make_response(store, store.staff[0], nps=1, csat=1, category="service_attitude")
    return db_session.scalars(select(Case).where(Case.response_id == response.id)).one()


def test_a_case_timeline_shows_display_names_not_e_mails(
    client, db_session, store, make_user, make_response, login_as
):
    manager = make_user(Role.MANAGER, stores=[store], email="li.na@example.com", name="李娜")
    deputy = make_user(Role.MANAGER, stores=[store], email="deputy@example.com")
    admin = make_user(Role.ADMIN, email="admin@example.com", name="总部")
    case = unhappy_case(db_session, make_response, store)
    log_contact(db_session, case, note="已致电", actor=Actor.of_user(manager), now=utcnow())
    assign_case(db_session, SETTINGS, case, deputy, actor=Actor.of_user(admin), now=utcnow())
    db_session.flush()
    login_as(deputy)
    timeline = timeline_of(client.get(f"/cases/{case.id}").get_data(as_text=True))
    assert "<bdi>李娜</bdi>" in timeline and "<bdi>总部</bdi>" in timeline
    assert "li.na@example.com" not in timeline and "admin@example.com" not in timeline
    # Without a name, the e-mail is all there is (the assignee here).
    assert "<bdi>deputy@example.com</bdi>" in timeline
    # A renamed user is shown by their name of today, in old lines too.
    manager.name = "李娜（店长）"
    db_session.flush()
    timeline = timeline_of(client.get(f"/cases/{case.id}").get_data(as_text=True))
    assert "<bdi>李娜（店长）</bdi>" in timeline


def test_a_mystery_visit_timeline_shows_the_reviewers_name(
    client, db_session, store, make_user, login_as, checklist_version
):
    reviewer = make_user(Role.REVIEWER, email="qa@example.com", name="质检 王")
    shopper = make_user(Role.MYSTERY, email="shopper@example.com")
    today = utcnow().date() + timedelta(days=1)
    plan = VisitPlan(store.id, shopper.id, "retail-standard", today, today, "morning")
    visit = schedule_visit(db_session, SETTINGS, plan, actor=Actor.of_user(reviewer), now=utcnow())
    db_session.flush()
    login_as(reviewer)
    timeline = timeline_of(client.get(f"/mystery/visits/{visit.id}").get_data(as_text=True))
    assert "<bdi>质检 王</bdi>" in timeline and "qa@example.com" not in timeline


def test_name_and_language_are_set_on_the_settings_page(client, db_session, make_user, login_as):
    user = make_user(Role.HR, email="hr@example.com")
    login_as(user)
    saved = post_form(
        client,
        "/settings/profile",
        {"name": "周敏", "locale": "en"},
        page="/settings",
        headers={"Accept-Language": "zh-CN"},
    )
    assert saved.status_code == 302
    db_session.refresh(user)
    assert (user.name, user.locale) == ("周敏", "en")
    # The browser asks for Chinese; the user's choice wins on every page.
    page = client.get("/settings", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Account settings" in page
    too_long = post_form(
        client, "/settings/profile", {"name": "x" * 201, "locale": "en"}, page="/settings"
    )
    assert too_long.status_code == 400
    assert "A name has at most 200 characters." in too_long.get_data(as_text=True)
    bad = post_form(client, "/settings/profile", {"name": "a", "locale": "fr"}, page="/settings")
    assert bad.status_code == 400
    assert client.post("/settings/profile", data={"name": "b", "locale": "en"}).status_code == 400
    db_session.refresh(user)
    assert (user.name, user.locale) == ("周敏", "en")


def test_the_preference_applies_after_signing_in_anywhere(app, db_session, make_user):
    user = make_user(Role.HR, email="hr@example.com", locale="zh_CN")
    browser = app.test_client()
    en = {"Accept-Language": "en"}
    assert '<html lang="en">' in browser.get("/login", headers=en).get_data(as_text=True)
    post_form(browser, "/login", {"email": user.email, "password": PASSWORD}, headers=en)
    assert '<html lang="zh-CN">' in browser.get("/home", headers=en).get_data(as_text=True)


def test_switching_the_language_on_a_page_updates_the_preference(
    app, client, db_session, make_user, login_as
):
    user = make_user(Role.HR, email="hr@example.com", locale="zh_CN")
    login_as(user)
    switched = client.get("/home?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in switched
    db_session.refresh(user)
    assert user.locale == "en"
    assert '<html lang="en">' in client.get("/home").get_data(as_text=True)
    elsewhere = app.test_client()
    zh = {"Accept-Language": "zh-CN"}
    post_form(elsewhere, "/login", {"email": user.email, "password": PASSWORD}, headers=zh)
    assert '<html lang="en">' in elsewhere.get("/home", headers=zh).get_data(as_text=True)
    # Signed out, a switch changes only that browser's session.
    app.test_client().get("/login?lang=zh_CN")
    db_session.refresh(user)
    assert user.locale == "en"


@pytest.mark.parametrize(
    ("locale", "subject"),
    [
        ("en", "[New case] #{id} · SH-001 徐汇店"),
        ("zh_CN", "[新个案] #{id} · SH-001 徐汇店"),
        (None, "[新个案] #{id} · SH-001 徐汇店 / [New case] #{id} · SH-001 徐汇店"),
    ],
)
def test_case_mail_is_written_in_the_assignees_language(
    db_session, store, make_user, make_response, locale, subject
):
    manager = make_user(Role.MANAGER, stores=[store], email="boss@example.com", locale=locale)
    case = unhappy_case(db_session, make_response, store)
    assert case.assignee_id == manager.id
    (mail,) = db_session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id))
    assert mail.subject == subject.format(id=case.id)
    assert ("Please contact the customer" in mail.body) == (locale != "zh_CN")
    assert ("请在" in mail.body) == (locale != "en")
    assert mail.body.rstrip().endswith(f"http://portal.test/cases/{case.id}")
