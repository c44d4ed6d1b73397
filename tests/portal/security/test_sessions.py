"""Sessions end when they should: a copied session cookie stops working after sign-out,
a password change, deactivation and "sign out everywhere"; a cookie signed with another
key is never a signed-in session; signing in starts a fresh session."""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient

from portal.models import AuditEntry, Role, User
from tests.conftest import PASSWORD, post_form

NEW_PASSWORD = "a much better passphrase"


def _copy_session(app: Flask, client: FlaskClient) -> FlaskClient:
    """A second browser holding a copy of ``client``'s session cookie (a stolen cookie)."""
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(name, cookie.value)
    return thief


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/home").status_code == 200


def test_a_cookie_signed_with_another_key_is_not_signed_in(app, client, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    name = app.config["SESSION_COOKIE_NAME"]
    real = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    payload = real.loads(client.get_cookie(name).value)
    assert payload.get("_user_id")
    forger_app = Flask("forger")
    forger_app.secret_key = "an attacker's own key, long and random enough 9f3a"
    forger = SecureCookieSessionInterface().get_signing_serializer(forger_app)
    assert forger is not None

    forged, genuine = app.test_client(), app.test_client()
    forged.set_cookie(name, forger.dumps(payload))
    genuine.set_cookie(name, real.dumps(payload))
    assert _signed_in(genuine)  # the same content, signed with the real key, is accepted
    assert not _signed_in(forged)


def test_a_copied_cookie_stops_working_after_sign_out(app, client, make_user, login_as):
    login_as(make_user(Role.HR))
    thief = _copy_session(app, client)
    assert _signed_in(thief)
    assert post_form(client, "/logout", {}, page="/home").status_code == 302
    assert not _signed_in(client)
    assert not _signed_in(thief)


def test_a_copied_cookie_stops_working_after_a_password_change(
    app, client, make_user, login_as, db_session
):
    user = make_user(Role.HR)
    login_as(user)
    thief = _copy_session(app, client)
    assert _signed_in(thief)
    response = post_form(
        client,
        "/settings/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
        page="/settings",
    )
    assert response.status_code == 302
    assert _signed_in(client)  # the browser that changed it stays signed in
    assert not _signed_in(thief)
    fresh = app.test_client()
    assert (
        post_form(fresh, "/login", {"email": user.email, "password": PASSWORD}).status_code == 401
    )
    assert (
        post_form(fresh, "/login", {"email": user.email, "password": NEW_PASSWORD}).status_code
        == 302
    )
    entry = db_session.query(AuditEntry).filter_by(action="user.password_change").one()
    assert entry.subject_id == str(user.id)


def test_a_copied_cookie_stops_working_when_the_account_is_switched_off(
    app, client, make_user, login_as, db_session
):
    user = make_user(Role.HR)
    login_as(user)
    thief = _copy_session(app, client)
    assert _signed_in(thief)
    user.active = False
    db_session.flush()
    assert not _signed_in(thief)
    assert not _signed_in(client)


def test_sign_out_everywhere_ends_every_session(app, client, make_user, login_as, db_session):
    user = make_user(Role.HR)
    login_as(user)
    thief = _copy_session(app, client)
    other_device = app.test_client()
    assert (
        post_form(other_device, "/login", {"email": user.email, "password": PASSWORD}).status_code
        == 302
    )
    assert _signed_in(thief) and _signed_in(other_device)
    response = post_form(client, "/settings/sessions/end", {}, page="/settings")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert not _signed_in(client)
    assert not _signed_in(thief)
    assert not _signed_in(other_device)
    assert db_session.query(AuditEntry).filter_by(action="user.sessions_end").count() == 1


def test_sign_out_everywhere_needs_its_csrf_token(client, make_user, login_as):
    login_as(make_user(Role.HR))
    assert client.post("/settings/sessions/end").status_code == 400
    assert _signed_in(client)


def test_signing_in_starts_a_fresh_session(app, client, make_user):
    user = make_user(Role.HR)
    client.get("/login?lang=en")
    with client.session_transaction() as planted:
        planted["planted_by_attacker"] = "x"
        planted["_user_id"] = "999999"
    before = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert (
        post_form(client, "/login", {"email": user.email, "password": PASSWORD}).status_code == 302
    )
    with client.session_transaction() as after:
        assert "planted_by_attacker" not in after
        assert after["_user_id"] == str(user.id)
        assert after["lang"] == "en"  # the page language is the one thing kept
    assert client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value != before


def test_a_wrong_current_password_changes_nothing(client, make_user, login_as, db_session):
    user = make_user(Role.HR)
    login_as(user)
    old_hash = user.password_hash
    response = post_form(
        client,
        "/settings/password",
        {
            "current_password": "not my password",
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
        page="/settings",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "The current password is wrong." in response.get_data(as_text=True)
    db_session.refresh(user)
    assert user.password_hash == old_hash
    assert _signed_in(client)


def test_a_new_password_follows_the_length_rules_and_must_be_typed_twice(
    client, make_user, login_as
):
    login_as(make_user(Role.HR))
    short = post_form(
        client,
        "/settings/password",
        {"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
        page="/settings",
        headers={"Accept-Language": "zh-CN"},
    )
    assert short.status_code == 400
    assert "密码长度须为 10 至 200 个字符。" in short.get_data(as_text=True)
    differ = post_form(
        client,
        "/settings/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD + "!",
        },
        page="/settings",
        headers={"Accept-Language": "en"},
    )
    assert differ.status_code == 400
    assert "The two new passwords differ." in differ.get_data(as_text=True)


def test_the_settings_page_needs_a_signed_in_user(client):
    response = client.get("/settings")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_the_session_version_starts_at_one(make_user):
    user: User = make_user(Role.HR)
    assert user.session_version == 1
