"""A production app: only its own host is served, over HTTPS-only cookies and headers, and
pages with contact details are never cached; proxies are believed only when configured."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask, request

from portal import create_app
from portal.models import Role
from tests.conftest import PASSWORD, post_form

ORIGIN = "https://feedback.example.com"
PRODUCTION_KEY = "q8Jx2v_N4kTzR7mW1pLs9YbC3dHfG6aE0uVnKoXi5jM"


@pytest.fixture
def production(settings):
    return replace(settings, env="production", secret_key=PRODUCTION_KEY, base_url=ORIGIN)


def _app(settings, connection) -> Flask:
    return create_app(settings, bind=connection)


@pytest.fixture
def prod_app(production, connection):
    return _app(production, connection)


@pytest.fixture
def prod_client(prod_app):
    return prod_app.test_client()


def _probe(app: Flask) -> None:
    """A route that shows what the app believes about the request (scheme, client, host)."""

    @app.get("/_probe")
    def probe() -> str:
        return f"{request.scheme} {request.remote_addr} {request.host}"


def test_only_the_configured_host_is_served(prod_client):
    assert prod_client.get("/", base_url=ORIGIN).status_code == 200
    refused = prod_client.get("/login", base_url="https://evil.example")
    assert refused.status_code == 400
    assert "evil.example" not in refused.get_data(as_text=True)
    assert (
        prod_client.get("/", base_url=ORIGIN, headers={"Host": "evil.example"}).status_code == 400
    )


def test_allowed_hosts_replace_the_base_url_host(production, connection):
    app = _app(replace(production, allowed_hosts=("portal.example.cn", ".example.net")), connection)
    client = app.test_client()
    assert client.get("/", base_url="https://portal.example.cn").status_code == 200
    assert client.get("/", base_url="https://a.example.net").status_code == 200
    assert client.get("/", base_url=ORIGIN).status_code == 400


def test_development_serves_any_host(client):
    assert client.get("/", headers={"Host": "anything.local"}).status_code == 200


def test_production_responses_carry_hsts_and_a_strict_csp(prod_client):
    response = prod_client.get("/", base_url=ORIGIN)
    assert response.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    csp = response.headers["Content-Security-Policy"]
    assert "object-src 'none'" in csp and "base-uri 'none'" in csp


def test_development_over_http_sends_no_hsts(client):
    response = client.get("/")
    assert "Strict-Transport-Security" not in response.headers
    assert "object-src 'none'" in response.headers["Content-Security-Policy"]


def test_the_production_session_cookie_is_host_only_secure_httponly_and_lax(prod_client, make_user):
    user = make_user(Role.HR)
    response = post_form(
        prod_client, "/login", {"email": user.email, "password": PASSWORD}, base_url=ORIGIN
    )
    assert response.status_code == 302
    cookies = [v for k, v in response.headers.items() if k == "Set-Cookie"]
    (session_cookie,) = [c for c in cookies if c.startswith("__Host-session=")]
    attributes = {a.strip().split("=")[0].lower() for a in session_cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path"} <= attributes
    assert "domain" not in attributes
    assert "SameSite=Lax" in session_cookie and "Path=/" in session_cookie
    assert not any(c.startswith("session=") for c in cookies)
    assert prod_client.get("/home", base_url=ORIGIN).status_code == 200


def test_development_over_http_keeps_the_plain_cookie_name(app):
    assert app.config["SESSION_COOKIE_NAME"] == "session"
    assert app.config["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize(
    "role, url", [(Role.ADMIN, "/cases"), (Role.ADMIN, "/outbox"), (Role.HR, "/exports/")]
)
def test_pages_with_contact_details_are_never_cached(client, make_user, login_as, role, url):
    login_as(make_user(role))
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_the_survey_page_is_never_cached_but_its_qr_image_may_be(
    client, make_store, make_staff, make_receipt
):
    store = make_store()
    issued = make_receipt(store, make_staff(store))
    assert client.get(f"/r/{issued.token}").headers["Cache-Control"] == "no-store"
    assert "max-age=" in client.get(f"/r/{issued.token}/qr.svg").headers["Cache-Control"]


def test_the_home_page_may_be_cached(client):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")


def test_forwarded_headers_are_ignored_without_trusted_proxies(production, connection):
    app = _app(production, connection)
    _probe(app)
    page = app.test_client().get(
        "/_probe",
        headers={
            "Host": "feedback.example.com",
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "https",
        },
    )
    assert page.get_data(as_text=True).split() == ["http", "127.0.0.1", "feedback.example.com"]
    behind_proxy = app.test_client().get(
        "/_probe", headers={"Host": "10.0.0.5:8000", "X-Forwarded-Host": "feedback.example.com"}
    )
    assert behind_proxy.status_code == 400


def test_one_trusted_proxy_supplies_scheme_client_and_host(production, connection):
    app = _app(replace(production, trusted_proxies=1), connection)
    _probe(app)
    page = app.test_client().get(
        "/_probe",
        headers={
            "Host": "10.0.0.5:8000",
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "feedback.example.com",
        },
    )
    assert page.status_code == 200
    assert page.get_data(as_text=True).split() == ["https", "203.0.113.9", "feedback.example.com"]
