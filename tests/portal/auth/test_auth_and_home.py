"""Sign-in, roles on every route, a home page for every role (each home's content is
tested in tests/portal/home)."""

from __future__ import annotations

import pytest

from portal.models import Role
from tests.conftest import PASSWORD, post_form


def test_every_route_declares_who_may_use_it(app):
    undeclared = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        if not hasattr(view, "portal_roles"):
            undeclared.append(rule.rule)
    assert undeclared == []


def test_signing_in_with_the_right_password_opens_the_home_page(client, make_user, make_store):
    manager = make_user(Role.MANAGER, stores=[make_store()])
    response = post_form(client, "/login", {"email": manager.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"
    assert client.get("/home").status_code == 200


def test_a_wrong_password_is_refused_with_one_message(client, make_user):
    user = make_user(Role.HR)
    wrong = post_form(
        client,
        "/login",
        {"email": user.email, "password": "nope-nope-nope"},
        headers={"Accept-Language": "en"},
    )
    unknown = post_form(
        client,
        "/login",
        {"email": "ghost@example.com", "password": PASSWORD},
        headers={"Accept-Language": "en"},
    )
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong e-mail or password." in wrong.get_data(as_text=True)
    assert "Wrong e-mail or password." in unknown.get_data(as_text=True)
    assert client.get("/home").status_code == 302


def test_an_inactive_user_cannot_sign_in(client, make_user, db_session):
    user = make_user(Role.HR)
    user.active = False
    db_session.flush()
    assert (
        post_form(client, "/login", {"email": user.email, "password": PASSWORD}).status_code == 401
    )


def test_the_login_form_needs_its_csrf_token(client, make_user):
    user = make_user(Role.HR)
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 400
    )


def test_logout_needs_a_post_with_csrf(client, make_user, login_as):
    login_as(make_user(Role.HR))
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert post_form(client, "/logout", {}, page="/home").status_code == 302
    assert client.get("/home").status_code == 302


def test_after_login_only_local_next_urls_are_followed(client, make_user):
    user = make_user(Role.HR)
    response = post_form(
        client,
        "/login?next=//evil.example/x",
        {"email": user.email, "password": PASSWORD},
        page="/login",
    )
    assert response.headers["Location"] == "/home"


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/home")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_the_session_cookie_is_httponly_and_samesite(client, make_user):
    user = make_user(Role.HR)
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    cookie = next(
        v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


#: What each role's home opens with (its first section), in English.
FIRST_SECTION = {
    Role.ADMIN: "Admin console",
    Role.MANAGER: "Overdue cases",
    Role.MYSTERY: "Assignments to accept",
    Role.REVIEWER: "Reports waiting for review",
    Role.HR: "Service-star decisions waiting",
    Role.CX: "Drafts waiting to be published",
}


@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_a_home_page_of_its_own(
    client, make_store, make_staff, make_user, login_as, role
):
    store = make_store("SH-777", name="徐汇店")
    make_staff(store, "S001", name="赵敏")
    login_as(make_user(role, stores=[store] if role == Role.MANAGER else None))
    page = client.get("/home", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert FIRST_SECTION[role] in html
    # A store is named where there is something to see or do about it: the admin's
    # activity table, the manager's figures, the reviewer's "no visit this month". A
    # shopper has no assignment there and HR no decision about it: not named.
    assert ("SH-777" in html) == (role in (Role.ADMIN, Role.MANAGER, Role.REVIEWER))


def test_mystery_shoppers_cannot_check_validation_codes(client, make_user, login_as):
    login_as(make_user(Role.MYSTERY))
    assert client.get("/codes").status_code == 403


def test_security_headers_are_set(client):
    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
