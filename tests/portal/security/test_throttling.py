"""Item 4: throttling counted in shared storage, so that two workers (two apps on one
database here) share one count; each throttled place answers 429 with ``Retry-After``."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from itertools import cycle

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import throttle
from portal.audit import CLI
from portal.auth.operations import create_user
from portal.db import utcnow
from portal.models import AuditEntry, RateLimitHit, Role
from portal.pos_api.operations import create_api_key
from surveys.codes import new_short_code
from tests.conftest import (
    PASSWORD,
    add_store_with_cashier,
    csrf_token_from,
    issue_one_receipt,
    post_form,
)


@pytest.fixture
def world(fresh_engine, settings):
    """A store, a receipt, a POS key and a manager, committed in a database of their own."""
    with Session(fresh_engine, expire_on_commit=False) as session, session.begin():
        store = add_store_with_cashier(session)
        issued = issue_one_receipt(session, settings, store)
        key = create_api_key(session, store, actor=CLI, now=utcnow())
        create_user(
            session,
            email="li@example.com",
            role=Role.MANAGER,
            password=PASSWORD,
            stores=[store],
            actor=CLI,
            now=utcnow(),
        )
    return issued, key


@pytest.fixture
def workers(fresh_engine, make_app):
    """Two apps on one database, standing in for two workers or servers, one client each,
    both from the same address; used in turn."""
    return [make_app(fresh_engine).test_client() for _ in range(2)]


def _assert_throttled(answer) -> None:
    assert answer.status_code == 429
    assert 1 <= int(answer.headers["Retry-After"]) <= 3600


def _login(client, email: str, password: str = "wrong password 1"):
    return post_form(client, "/login", {"email": email, "password": password})


def test_failed_sign_ins_of_one_account_are_counted_across_workers(world, workers):
    clients = cycle(workers)
    # E-mails differing in case and spaces are one account.
    emails = cycle(["li@example.com", " LI@example.com"])
    for _ in range(throttle.LOGIN_ACCOUNT.limit):
        assert _login(next(clients), next(emails)).status_code == 401
    # Even the right password waits now: the guesser cannot tell.
    _assert_throttled(_login(next(clients), "li@example.com", PASSWORD))
    other = workers[0]
    other.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    _assert_throttled(_login(other, "li@example.com", PASSWORD))


def test_failed_sign_ins_from_one_address_are_counted_across_workers(world, workers):
    clients = cycle(workers)
    for number in range(throttle.LOGIN_IP.limit):
        assert _login(next(clients), f"nobody{number}@example.com").status_code == 401
    _assert_throttled(_login(next(clients), "li@example.com", PASSWORD))
    elsewhere = workers[0]
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    assert _login(elsewhere, "li@example.com", PASSWORD).status_code == 302


def test_bad_bearer_credentials_are_counted_across_workers_and_apis(world, workers):
    issued, key = world
    clients = cycle(workers)
    bad = {"Authorization": "Bearer rfp_" + "x" * 43}
    for number in range(throttle.BEARER.limit):
        client = next(clients)
        if number % 2:
            answer = client.get("/api/v1/metrics/summary?store=SH-001", headers=bad)
        else:
            answer = client.post("/api/v1/receipts", json={}, headers=bad)
        assert answer.status_code == 401
    refused = next(clients).post(
        "/api/v1/receipts",
        json={"transaction_id": "T-9", "staff_code": "S001"},
        headers={"Authorization": f"Bearer {key.secret}"},
    )
    _assert_throttled(refused)
    assert refused.is_json


def test_forged_survey_links_are_counted_across_workers(world, workers):
    issued, _key = world
    clients = cycle(workers)
    forged = issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")
    for _ in range(throttle.SURVEY_TOKEN.limit):
        assert next(clients).get(f"/r/{forged}").status_code == 404
    _assert_throttled(next(clients).get(f"/r/{forged}"))
    _assert_throttled(next(clients).get(f"/r/{forged}/qr.png"))
    # A real link (unguessable: signed) still opens.
    assert next(clients).get(f"/r/{issued.token}").status_code == 200


def test_unknown_short_codes_are_counted_across_workers(world, workers):
    issued, _key = world
    clients = cycle(workers)
    tokens = {id(c): csrf_token_from(c.get("/r").get_data(as_text=True)) for c in workers}

    def send(client, code):
        return client.post("/r", data={"code": code, "csrf_token": tokens[id(client)]})

    for _ in range(throttle.SHORT_CODE.limit):
        assert send(next(clients), new_short_code()).status_code == 404
    _assert_throttled(send(next(clients), issued.receipt.short_code))


def test_survey_submits_from_one_client_are_counted_across_workers(world, workers):
    issued, _key = world
    clients = cycle(workers)
    url = f"/r/{issued.token}"
    for _ in range(throttle.SUBMIT.limit):
        assert next(clients).post(url, data={}).status_code == 400  # no answers: re-shown
    _assert_throttled(next(clients).post(url, data={}))


def test_a_new_window_starts_afresh(world, workers, monkeypatch):
    issued, _key = world
    forged = issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")
    for _ in range(throttle.SURVEY_TOKEN.limit):
        workers[0].get(f"/r/{forged}")
    _assert_throttled(workers[1].get(f"/r/{forged}"))
    later = utcnow() + timedelta(seconds=throttle.SURVEY_TOKEN.window)
    monkeypatch.setattr(throttle, "utcnow", lambda: later)
    assert workers[1].get(f"/r/{forged}").status_code == 404


def test_counts_are_shared_and_old_windows_deleted(fresh_engine):
    rule = throttle.Rule("test", 2, 60)
    first, second = throttle.DatabaseStorage(fresh_engine), throttle.DatabaseStorage(fresh_engine)
    now = utcnow()
    assert throttle.hit(first, rule, "a", now) is None
    assert throttle.peek(second, rule, "a", now) is None
    assert throttle.hit(second, rule, "a", now) is None
    assert throttle.peek(first, rule, "a", now) is not None
    retry_after = throttle.hit(first, rule, "a", now)
    assert retry_after is not None and 1 <= retry_after <= 60
    assert throttle.hit(second, rule, "a", now + timedelta(seconds=60)) is None
    with Session(fresh_engine) as session:  # the first window's row went
        assert session.scalar(select(func.count()).select_from(RateLimitHit)) == 1


def test_a_limits_storage_url_is_used_instead_of_the_database(world, fresh_engine, settings):
    from portal import create_app

    app = create_app(replace(settings, ratelimit_storage_url="memory://"), bind=fresh_engine)
    assert isinstance(app.extensions["portal.throttle"], throttle.LimitsStorage)
    client = app.test_client()
    for _ in range(throttle.SHORT_CODE.limit):
        post_form(client, "/r", {"code": new_short_code()})
    _assert_throttled(post_form(client, "/r", {"code": new_short_code()}))
    with Session(fresh_engine) as session:
        assert session.scalar(select(func.count()).select_from(RateLimitHit)) == 0


def test_a_failed_sign_in_is_audited_and_listed_for_admins(client, db_session, make_user, login_as):
    admin = make_user(Role.ADMIN)
    answer = _login(client, "  Wang@Example.COM ", "secret guess 42")
    assert answer.status_code == 401
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "login.failed")).one()
    assert entry.details == {"email": "wang@example.com", "address": "127.0.0.1"}
    assert "secret guess 42" not in repr(entry.details) + entry.actor + entry.subject_id
    login_as(admin)
    page = client.get("/failed-logins", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "wang@example.com" in page.get_data(as_text=True)


def test_the_failed_sign_ins_page_is_paginated_and_for_admins_only(
    client, db_session, make_user, login_as
):
    for number in range(60):  # from many addresses, or the address would be throttled
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{number}"
        _login(client, f"guess{number:02}@example.com")
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"
    login_as(make_user(Role.ADMIN))
    first = client.get("/failed-logins").get_data(as_text=True)
    assert "guess59@example.com" in first and "guess00@example.com" not in first
    assert "guess00@example.com" in client.get("/failed-logins?page=2").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token_from(first)})
    login_as(make_user(Role.HR))
    assert client.get("/failed-logins").status_code == 403
