"""Forgot password: one answer whatever the address, throttled per address and per client,
a link that works once, dies when the password changes or the user signs in, expires, and
is refused with a clear page; forged links never reach a 500. Change password is one click
from every role's header."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import throttle
from portal.audit import CLI
from portal.auth.operations import change_password
from portal.auth.recovery import send_password_link
from portal.config import Settings, SettingsError
from portal.db import utcnow
from portal.models import OutboxMessage, Role
from tests.conftest import PASSWORD, SETTINGS, post_form

EN = {"Accept-Language": "en"}
NEW_PASSWORD = "violet tram sings 42 kites"
LINK = re.compile(r"http://portal\.test(/(?:invitation|reset-password)/[A-Za-z0-9_\-]+)")


def links_to(db_session, email: str) -> list[str]:
    stmt = select(OutboxMessage.body).where(OutboxMessage.to == email).order_by(OutboxMessage.id)
    return [LINK.search(body).group(1) for body in db_session.scalars(stmt)]


def forgot(client, email: str, **kwargs):
    return post_form(client, "/forgot-password", {"email": email}, headers=EN, **kwargs)


def choose(client, path: str, password: str = NEW_PASSWORD, page: str | None = None):
    data = {"new_password": password, "confirm_password": password}
    return post_form(client, path, data, page=page, headers=EN)


def test_the_login_page_links_to_forgot_password(client):
    assert 'href="/forgot-password"' in client.get("/login").get_data(as_text=True)


def test_forgot_password_answers_the_same_for_any_address(app, db_session, make_user):
    make_user(Role.HR, email="known@example.com")
    off = make_user(Role.HR, email="off@example.com")
    off.active = False
    db_session.flush()
    answers = [
        forgot(app.test_client(), email)
        for email in (
            "known@example.com",
            "nobody@example.com",
            "off@example.com",
            "KNOWN@example.com ",
        )
    ]
    assert {a.status_code for a in answers} == {200}
    bodies = {a.get_data(as_text=True) for a in answers}
    assert len(bodies) == 1
    assert "If an account exists for this address, we sent it a link" in bodies.pop()
    # Only the active account got mail (twice: the address is not case-sensitive).
    assert list(db_session.scalars(select(OutboxMessage.to))) == ["known@example.com"] * 2


def test_forgot_password_is_throttled_per_address(app, make_user):
    make_user(Role.HR, email="known@example.com")
    for address in ("known@example.com", "nobody@example.com"):
        for n in range(throttle.RESET_ACCOUNT.limit):
            client = app.test_client()
            environ = {"REMOTE_ADDR": f"10.0.{n}.{len(address)}"}
            assert forgot(client, address, environ_base=environ).status_code == 200
        refused = forgot(app.test_client(), address, environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 3600


def test_forgot_password_is_throttled_per_client(app):
    environ = {"REMOTE_ADDR": "192.0.2.7"}
    client = app.test_client()
    for n in range(throttle.RESET_IP.limit):
        assert forgot(client, f"user{n}@example.com", environ_base=environ).status_code == 200
    refused = forgot(client, "one.more@example.com", environ_base=environ)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    other = forgot(
        app.test_client(), "one.more@example.com", environ_base={"REMOTE_ADDR": "192.0.2.8"}
    )
    assert other.status_code == 200


def test_a_reset_link_works_once_and_signs_the_user_in(app, db_session, make_user):
    user = make_user(Role.REVIEWER, email="me@example.com")
    other_device = app.test_client()
    post_form(other_device, "/login", {"email": user.email, "password": PASSWORD})
    forgot(app.test_client(), user.email)
    (path,) = links_to(db_session, user.email)
    assert path.startswith("/reset-password/")
    browser = app.test_client()
    page = browser.get(path, headers=EN)
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    done = choose(browser, path)
    assert done.status_code == 302 and done.headers["Location"] == "/home"
    assert browser.get("/settings").status_code == 200
    assert other_device.get("/settings").status_code == 302  # its session ended
    used = app.test_client().get(path, headers=EN)
    assert used.status_code == 400
    html = used.get_data(as_text=True)
    assert "already used" in html and 'id="ask-again" href="/forgot-password"' in html
    again = choose(app.test_client(), path, "yet another passphrase", page="/forgot-password")
    assert again.status_code == 400
    login = post_form(app.test_client(), "/login", {"email": user.email, "password": NEW_PASSWORD})
    assert login.status_code == 302


def test_a_reset_link_dies_when_the_password_changes_or_the_user_signs_in(
    app, db_session, make_user
):
    user = make_user(Role.HR, email="me@example.com")
    first = send_password_link(db_session, SETTINGS, user, actor=CLI, now=utcnow())
    change_password(
        db_session,
        user,
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        actor=CLI,
        now=utcnow(),
    )
    second = send_password_link(db_session, SETTINGS, user, actor=CLI, now=utcnow())
    db_session.flush()
    first_path, second_path = (LINK.search(m.body).group(1) for m in (first, second))
    client = app.test_client()
    assert client.get(first_path).status_code == 400
    assert client.get(second_path).status_code == 200
    # Signing in with the password also ends it: the user evidently remembered it.
    post_form(client, "/login", {"email": user.email, "password": NEW_PASSWORD})
    assert app.test_client().get(second_path).status_code == 400


def test_a_reset_link_expires(app, db_session, make_user):
    user = make_user(Role.HR, email="me@example.com")
    minutes = SETTINGS.reset_minutes
    old = send_password_link(
        db_session, SETTINGS, user, actor=CLI, now=utcnow() - timedelta(minutes=minutes + 1)
    )
    fresh = send_password_link(
        db_session, SETTINGS, user, actor=CLI, now=utcnow() - timedelta(minutes=minutes - 5)
    )
    client = app.test_client()
    expired = client.get(LINK.search(old.body).group(1), headers=EN)
    assert expired.status_code == 410
    html = expired.get_data(as_text=True)
    assert "This link has expired." in html and 'href="/forgot-password"' in html
    assert client.get(LINK.search(fresh.body).group(1)).status_code == 200


def test_a_reset_link_is_no_invitation(app, db_session, make_user):
    user = make_user(Role.HR, email="me@example.com")
    message = send_password_link(db_session, SETTINGS, user, actor=CLI, now=utcnow())
    token = LINK.search(message.body).group(1).rsplit("/", 1)[1]
    assert app.test_client().get(f"/invitation/{token}").status_code == 400


def test_a_new_password_follows_the_password_rules(app, db_session, make_user):
    user = make_user(Role.HR, email="me@example.com")
    forgot(app.test_client(), user.email)
    (path,) = links_to(db_session, user.email)
    client = app.test_client()
    common = choose(client, path, "1234567890")
    assert common.status_code == 400 and "too common" in common.get_data(as_text=True)
    short = choose(client, path, "short")
    assert short.status_code == 400
    assert "A password has 10 to 200 characters." in short.get_data(as_text=True)
    zh = post_form(
        client,
        path,
        {"new_password": "1234567890", "confirm_password": "1234567890"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert "此密码过于常见" in zh.get_data(as_text=True)
    assert choose(client, path).status_code == 302  # the link survived the refusals


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "1-1-" + "A" * 43,
        "zzzzzzzzzzzzz-zzzzzzzzzzzzz-" + "A" * 43,
        "1-zzzzzzzzzzzzz-" + "A" * 43,
        "1-" + "0" * 13 + "-" + "A" * 43,
        "x" * 500,
    ],
)
def test_a_forged_link_is_refused_with_a_clear_page(app, make_user, token):
    make_user(Role.HR)
    answer = app.test_client().get(f"/reset-password/{token}", headers=EN)
    assert answer.status_code == 400
    assert "This link is not valid any more" in answer.get_data(as_text=True)


def test_a_tampered_signature_is_refused(app, db_session, make_user):
    user = make_user(Role.HR, email="me@example.com")
    message = send_password_link(db_session, SETTINGS, user, actor=CLI, now=utcnow())
    path = LINK.search(message.body).group(1)
    tampered = path[:-1] + ("A" if path[-1] != "A" else "B")
    assert app.test_client().get(tampered).status_code == 400
    assert app.test_client().get(path).status_code == 200


def test_forgot_password_needs_its_csrf_token(client, db_session, make_user):
    make_user(Role.HR, email="known@example.com")
    assert client.post("/forgot-password", data={"email": "known@example.com"}).status_code == 400
    assert db_session.scalar(select(OutboxMessage.id)) is None


@pytest.mark.parametrize("role", list(Role))
def test_change_password_is_one_click_from_every_roles_header(
    client, make_store, make_user, login_as, role
):
    login_as(make_user(role, stores=[make_store()]))
    home = client.get("/home", headers=EN).get_data(as_text=True)
    header = home[home.index('<header class="topbar">') : home.index("</header>")]
    assert 'href="/settings"' in header
    settings = client.get("/settings", headers=EN).get_data(as_text=True)
    assert "Change your password" in settings and 'action="/settings/password"' in settings


def test_link_lifetimes_are_settings():
    env = {"PORTAL_SECRET_KEY": "k", "PORTAL_INVITATION_DAYS": "3", "PORTAL_RESET_MINUTES": "15"}
    settings = Settings.from_env(env)
    assert (settings.invitation_days, settings.reset_minutes) == (3, 15)
    for name, value in (("PORTAL_INVITATION_DAYS", "0"), ("PORTAL_RESET_MINUTES", "1")):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({"PORTAL_SECRET_KEY": "k", name: value})
