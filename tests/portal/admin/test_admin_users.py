"""Users in the admin console: the invitation by mail end to end, its expiry and single
use, editing role, scope and language, switching off (sessions and API tokens stop at
once) and on, the last-admin protection, password links sent on a user's behalf, the list's
search and filters, access control and CSRF."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.access import list_visible_stores
from portal.api_tokens.operations import create_api_token
from portal.audit import CLI
from portal.auth.recovery import send_password_link
from portal.db import utcnow
from portal.models import ApiToken, AuditEntry, OutboxMessage, Role, User
from tests.conftest import PASSWORD, SETTINGS, post_form

EN = {"Accept-Language": "en"}
NEW_PASSWORD = "violet tram sings 42 kites"
LINK = re.compile(r"http://portal\.test(/(?:invitation|reset-password)/[A-Za-z0-9_\-]+)")


def mails_to(db_session, email: str) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).where(OutboxMessage.to == email).order_by(OutboxMessage.id)
    return list(db_session.scalars(stmt))


def link_in(message: OutboxMessage) -> str:
    """The path of the one password link in a mail (the same link in each language)."""
    links = set(LINK.findall(message.body))
    assert len(links) == 1, message.body
    return links.pop()


def signed_in_as(client: FlaskClient) -> str | None:
    """The e-mail of the user the client is signed in as (from the settings page), or None."""
    answer = client.get("/settings", headers=EN)
    if answer.status_code != 200:
        return None
    return re.search(r'id="whoami"[^>]*>([^<]+)<', answer.get_data(as_text=True)).group(1)


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, email="admin@example.com", name="总部管理员")


@pytest.fixture
def store(make_store):
    return make_store("SH-001", name="徐汇店", region="华东")


def invite(client, **fields):
    data = {"email": "new.manager@example.com", "name": "李娜", "role": "manager"}
    data.update(fields)
    return post_form(client, "/admin/users/invite", data, headers=EN)


def choose_password(client, path: str, password: str = NEW_PASSWORD, page: str | None = None):
    data = {"new_password": password, "confirm_password": password}
    return post_form(client, path, data, page=page, headers=EN)


def test_an_invitation_by_mail_sets_the_password_and_signs_the_user_in_once(
    app, client, db_session, admin, store, login_as
):
    login_as(admin)
    answer = invite(client, stores=["SH-001"], locale="en")
    assert answer.status_code == 302
    user = db_session.scalars(select(User).where(User.email == "new.manager@example.com")).one()
    assert answer.headers["Location"] == f"/admin/users/{user.id}"
    assert user.role == "manager" and [s.code for s in user.stores] == ["SH-001"]
    assert user.name == "李娜" and user.locale == "en" and user.last_login_at is None
    # Nobody can sign in before the link is used: there is no password yet.
    stranger = app.test_client()
    for guess in ("", PASSWORD, user.password_hash):
        tried = post_form(stranger, "/login", {"email": user.email, "password": guess or "x"})
        assert tried.status_code in (400, 401)

    (mail,) = mails_to(db_session, user.email)
    assert mail.subject == "Your account on the receipt feedback portal"  # English only
    assert "7 days" in mail.body and "new.manager@example.com" in mail.body
    path = link_in(mail)
    assert path.startswith("/invitation/")

    browser = app.test_client()
    page = browser.get(path, headers=EN)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Welcome, <bdi>李娜</bdi>" in page.get_data(as_text=True)
    done = choose_password(browser, path)
    assert done.status_code == 302 and done.headers["Location"] == "/home"
    assert signed_in_as(browser) == user.email
    db_session.refresh(user)
    assert user.last_login_at is not None

    again = app.test_client().get(path, headers=EN)
    assert again.status_code == 400
    html = again.get_data(as_text=True)
    assert "already used" in html and 'href="/forgot-password"' in html
    assert (
        choose_password(
            app.test_client(), path, "another fine passphrase", page="/forgot-password"
        ).status_code
        == 400
    )

    fresh = app.test_client()
    signed = post_form(fresh, "/login", {"email": user.email, "password": NEW_PASSWORD})
    assert signed.status_code == 302
    actions = set(db_session.scalars(select(AuditEntry.action)))
    assert {"user.create", "user.invitation_sent", "user.password_set_by_invitation"} <= actions


def test_an_invitation_expires_after_the_configured_days(app, db_session, make_user):
    user = make_user(Role.HR, email="late@example.com")
    user.password_hash = "!never-chosen"
    db_session.flush()
    days = SETTINGS.invitation_days
    old = send_password_link(
        db_session, SETTINGS, user, actor=CLI, now=utcnow() - timedelta(days=days, minutes=1)
    )
    recent = send_password_link(
        db_session, SETTINGS, user, actor=CLI, now=utcnow() - timedelta(days=days - 1)
    )
    client = app.test_client()
    expired = client.get(link_in(old), headers=EN)
    assert expired.status_code == 410
    assert "This link has expired." in expired.get_data(as_text=True)
    assert client.get(link_in(recent), headers=EN).status_code == 200


@pytest.mark.parametrize(
    ("locale", "subject"),
    [
        ("zh_CN", "您在顾客反馈门户的账户"),
        ("", "您在顾客反馈门户的账户 / Your account on the receipt feedback portal"),
    ],
)
def test_the_invitation_is_written_in_the_users_language(
    client, db_session, admin, login_as, locale, subject
):
    login_as(admin)
    assert invite(client, role="hr", locale=locale).status_code == 302
    (mail,) = mails_to(db_session, "new.manager@example.com")
    assert mail.subject == subject
    assert ("Choose your password" in mail.body) == (locale == "")
    assert "设置密码" in mail.body


@pytest.mark.parametrize(
    ("fields", "status", "field", "message"),
    [
        (
            {"email": "admin@example.com", "role": "hr"},
            409,
            "email",
            "A user with this e-mail already exists.",
        ),
        ({"role": "manager"}, 400, "stores", "needs at least one store or a region"),
        ({"email": "not an address"}, 400, "email", "This is not an e-mail address."),
        ({"name": "x" * 201, "role": "hr"}, 400, "name", "A name has at most 200 characters."),
        ({"role": "boss"}, 400, "role", "Not a valid choice"),
    ],
)
def test_a_bad_invitation_is_refused_on_its_field_and_writes_nothing(
    client, db_session, admin, login_as, fields, status, field, message
):
    login_as(admin)
    answer = invite(client, **fields)
    assert answer.status_code == status
    html = answer.get_data(as_text=True)
    errors = re.search(rf'id="{field}-errors">(.*?)</ul>', html, re.S)
    assert errors and message in errors.group(1), html
    assert db_session.scalar(select(OutboxMessage.id)) is None
    assert db_session.scalars(select(User)).all() == [admin]


def test_a_region_manager_is_invited_without_stores_and_sees_the_region(
    client, db_session, admin, store, make_store, login_as
):
    make_store("HZ-001", region="华东")
    make_store("BJ-001", region="华北")
    login_as(admin)
    assert invite(client, region="华东").status_code == 302
    user = db_session.scalars(select(User).where(User.role == "manager")).one()
    assert user.region == "华东" and user.stores == []
    assert [s.code for s in list_visible_stores(db_session, user)] == ["HZ-001", "SH-001"]


def test_an_admin_edits_role_scope_name_and_language(
    client, db_session, admin, store, make_user, login_as
):
    user = make_user(Role.HR, email="hr@example.com")
    login_as(admin)
    page = client.get(f"/admin/users/{user.id}", headers=EN)
    assert page.status_code == 200 and "never signed in" in page.get_data(as_text=True)
    data = {"name": "王芳", "role": "manager", "stores": ["SH-001"], "locale": "zh_CN"}
    saved = post_form(client, f"/admin/users/{user.id}", data, headers=EN)
    assert saved.status_code == 302
    db_session.refresh(user)
    assert (user.name, user.role, user.locale) == ("王芳", "manager", "zh_CN")
    assert [s.code for s in user.stores] == ["SH-001"]
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "user.update")).one()
    assert entry.details["role"] == ["hr", "manager"] and entry.actor_user_id == admin.id
    # Back to a chain-wide role: the store scope goes with the manager role.
    data = {"name": "王芳", "role": "reviewer", "stores": ["SH-001"], "locale": ""}
    assert post_form(client, f"/admin/users/{user.id}", data).status_code == 302
    db_session.refresh(user)
    assert (user.role, user.stores, user.locale) == ("reviewer", [], None)


def test_a_managers_stores_are_picked_from_a_list_not_a_tick_box_each(
    client, admin, store, make_user, login_as
):
    # A chain has hundreds of stores: the invitation and the user's page offer them as
    # one list to pick several from, as its help line says ("hold Ctrl or ⌘").
    user = make_user(Role.MANAGER, email="m@example.com", stores=[store])
    login_as(admin)
    for path in ("/admin/users/invite", f"/admin/users/{user.id}"):
        html = client.get(path, headers=EN).get_data(as_text=True)
        stores = re.search(r'<select[^>]*\bid="stores"[^>]*>(.*?)</select>', html, re.S)
        assert stores is not None, path
        assert " multiple" in stores.group(0).split(">", 1)[0] and "SH-001" in stores.group(1)
        assert "hold Ctrl or ⌘ to pick several" in html
        assert not re.search(r'type="checkbox"[^>]*name="stores"', html), path


def _copy_session(app: Flask, client: FlaskClient) -> FlaskClient:
    name = app.config["SESSION_COOKIE_NAME"]
    thief = app.test_client()
    thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def test_switching_off_ends_open_sessions_and_refuses_api_tokens_at_once(
    app, db_session, admin, store, make_user
):
    hr = make_user(Role.HR, email="leaver@example.com")
    token = create_api_token(db_session, hr, actor=CLI, now=utcnow(), label="sheet").secret
    api = {"Authorization": f"Bearer {token}"}
    summary = "/api/v1/metrics/summary?store=SH-001"
    leaver = app.test_client()
    assert post_form(leaver, "/login", {"email": hr.email, "password": PASSWORD}).status_code == 302
    copy = _copy_session(app, leaver)
    assert signed_in_as(copy) == hr.email
    assert app.test_client().get(summary, headers=api).status_code == 200

    console = app.test_client()
    post_form(console, "/login", {"email": admin.email, "password": PASSWORD})
    off = post_form(console, f"/admin/users/{hr.id}/switch-off", {}, page=f"/admin/users/{hr.id}")
    assert off.status_code == 302
    assert signed_in_as(leaver) is None and signed_in_as(copy) is None
    assert leaver.get("/home").status_code == 302  # to the sign-in page
    assert app.test_client().get(summary, headers=api).status_code == 401
    assert (
        post_form(
            app.test_client(), "/login", {"email": hr.email, "password": PASSWORD}
        ).status_code
        == 401
    )
    db_session.refresh(hr)
    assert not hr.active
    assert db_session.scalars(select(ApiToken.revoked_at)).one() is not None
    page = console.get(f"/admin/users/{hr.id}", headers=EN).get_data(as_text=True)
    assert "API tokens revoked when they were switched off stay revoked" in page

    on = post_form(console, f"/admin/users/{hr.id}/switch-on", {}, page=f"/admin/users/{hr.id}")
    assert on.status_code == 302
    back = app.test_client()
    assert post_form(back, "/login", {"email": hr.email, "password": PASSWORD}).status_code == 302
    assert signed_in_as(copy) is None  # the old cookie stays dead
    assert app.test_client().get(summary, headers=api).status_code == 401  # still revoked
    actions = list(db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert "user.switch_off" in actions and "user.switch_on" in actions


def test_an_admin_cannot_switch_themself_off(client, db_session, admin, make_user, login_as):
    make_user(Role.ADMIN, email="second@example.com")
    login_as(admin)
    answer = post_form(
        client, f"/admin/users/{admin.id}/switch-off", {}, page="/admin/users", headers=EN
    )
    assert answer.status_code == 409
    assert "You cannot switch yourself off." in answer.get_data(as_text=True)
    db_session.refresh(admin)
    assert admin.active


def test_the_last_active_admin_is_never_removed(client, db_session, admin, make_user, login_as):
    other = make_user(Role.ADMIN, email="second@example.com")
    login_as(admin)
    url = f"/admin/users/{other.id}/switch-off"
    assert post_form(client, url, {}, page="/admin/users").status_code == 302
    # Now the only active admin: demoting themself is refused with a clear message.
    data = {"name": "", "role": "hr", "locale": ""}
    answer = post_form(client, f"/admin/users/{admin.id}", data, headers=EN)
    assert answer.status_code == 409
    assert "This is the last active administrator" in answer.get_data(as_text=True)
    db_session.refresh(admin)
    assert admin.role == "admin"
    # With the other switched on again, it is allowed.
    post_form(client, f"/admin/users/{other.id}/switch-on", {}, page="/admin/users")
    assert post_form(client, f"/admin/users/{admin.id}", data).status_code == 302


def test_the_last_admin_cannot_be_switched_off_by_anyone(db_session, admin):
    from portal.admin.users import UserRefused, switch_off

    with pytest.raises(UserRefused, match="last active administrator"):
        switch_off(db_session, admin, actor=CLI, now=utcnow())


def test_a_password_link_is_sent_on_the_users_behalf_and_no_password_is_shown(
    client, db_session, admin, make_user, login_as
):
    user = make_user(Role.REVIEWER, email="forgetful@example.com", locale="en")
    before = user.password_hash
    login_as(admin)
    answer = post_form(
        client,
        f"/admin/users/{user.id}/password-link",
        {},
        page=f"/admin/users/{user.id}",
        headers=EN,
        follow_redirects=True,
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "A link to choose a password was sent to forgetful@example.com." in html
    (mail,) = mails_to(db_session, user.email)
    assert mail.subject == "Reset your password" and link_in(mail) not in html
    assert PASSWORD not in html and "60 minutes" in mail.body
    db_session.refresh(user)
    assert user.password_hash == before
    # A switched-off user gets no link: it would not work.
    user.active = False
    db_session.flush()
    refused = post_form(
        client, f"/admin/users/{user.id}/password-link", {}, page="/admin/users", headers=EN
    )
    assert refused.status_code == 409 and "switch them on first" in refused.get_data(as_text=True)


def test_the_list_searches_filters_and_shows_the_last_sign_in(
    client, db_session, admin, make_user, login_as
):
    make_user(Role.HR, email="hr.one@example.com", name="Zhou Min")
    off = make_user(Role.HR, email="hr.two@example.com")
    off.active = False
    make_user(Role.MYSTERY, email="shopper@example.com")
    login_as(admin)
    page = client.get("/admin/users", headers=EN).get_data(as_text=True)
    assert "4 users" in page and "never signed in" in page
    searched = client.get("/admin/users?q=zhou", headers=EN).get_data(as_text=True)
    assert "1 user" in searched and "hr.one@example.com" in searched
    by_role = client.get("/admin/users?role=hr&active=no", headers=EN).get_data(as_text=True)
    assert "1 user" in by_role and "hr.two@example.com" in by_role
    # LIKE wildcards typed in the search are plain characters.
    assert "0 users" in client.get("/admin/users?q=%25", headers=EN).get_data(as_text=True)
    assert client.get("/admin/users?page=x").status_code == 400


@pytest.mark.parametrize("role", [Role.MANAGER, Role.HR, Role.REVIEWER, Role.MYSTERY])
def test_only_admins_reach_the_users_pages(client, store, make_user, login_as, role):
    target = make_user(Role.HR, email="target@example.com")
    login_as(make_user(role, stores=[store]))
    for url in ("/admin/users", "/admin/users/invite", f"/admin/users/{target.id}"):
        assert client.get(url).status_code == 403
    for action in ("switch-off", "switch-on", "password-link"):
        url = f"/admin/users/{target.id}/{action}"
        assert post_form(client, url, {}, page="/settings").status_code == 403
    assert (
        post_form(
            client, "/admin/users/invite", {"email": "x@example.com"}, page="/settings"
        ).status_code
        == 403
    )


def test_the_users_pages_need_a_signed_in_admin(client):
    answer = client.get("/admin/users")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_the_users_forms_need_their_csrf_token(client, db_session, admin, make_user, login_as):
    user = make_user(Role.HR, email="hr@example.com")
    login_as(admin)
    assert (
        client.post(
            "/admin/users/invite", data={"email": "x@example.com", "role": "hr"}
        ).status_code
        == 400
    )
    assert client.post(f"/admin/users/{user.id}/switch-off").status_code == 400
    assert client.post(f"/admin/users/{user.id}", data={"role": "admin"}).status_code == 400
    db_session.refresh(user)
    assert user.active and user.role == "hr"
    assert db_session.scalar(select(OutboxMessage.id)) is None


def test_an_unknown_user_is_a_404(client, admin, login_as):
    login_as(admin)
    assert client.get("/admin/users/999999").status_code == 404
